"""Build a client's warehouse: read every export, parse it by the mapping, quarantine what cannot be
used, pseudonymise and stitch identities, and write the canonical tables.

The build goes to a temporary file that replaces `warehouse.duckdb` only when everything
succeeded, so a failed ingest leaves the previous warehouse intact. `check_workspace` runs the
same pipeline in memory and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from tqdm.auto import tqdm

from cjlib import __version__
from cjlib.config.schema import IDENTIFIERS, KIND_DEFAULTS, ClientConfig, SourceConfig, parse_window
from cjlib.config.workspace import Workspace
from cjlib.db import connect, execute, load_sql, query, quote_ident, scalar
from cjlib.errors import ConfigError, InputError
from cjlib.ingest.compile import Compiled, compile_parse, mapped_columns
from cjlib.ingest.readers import RawFile, read_file
from cjlib.ingest.report import IngestReport

SQL = "cjlib.ingest.sql"
STAGED_FIELDS = (
    "event", "ts", "channel", "source", "case_id", "value", "cost", "duration_s", "outcome",
    "score", "segment", "region",
)  # fmt: skip


@dataclass(frozen=True)
class SourceFile:
    """One file of one source, with its global index (part of every row key)."""

    file_id: int
    source: SourceConfig
    path: Path
    relative: str


def build_warehouse(ws: Workspace, *, progress: bool = True) -> IngestReport:
    """Ingest every export of the workspace into warehouse.duckdb (atomically)."""
    config = ws.config
    salt = ws.salt(create=True)
    target = ws.warehouse_path
    building = target.with_name(f".{target.name}.building-{os.getpid()}")
    building.unlink(missing_ok=True)
    con = connect(building)
    try:
        report = _run_pipeline(con, ws, config, salt, progress=progress)
        _write_meta(con, config, report)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        building.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(building, target)
    return report


def check_workspace(ws: Workspace, *, progress: bool = False) -> IngestReport:
    """Validate mapping and files by running the whole pipeline in memory; writes nothing."""
    config = ws.config
    try:
        salt = ws.salt(create=False)
    except ConfigError:
        salt = secrets.token_hex(32)  # a throw-away salt: the check stores nothing
    con = connect(None)
    try:
        return _run_pipeline(con, ws, config, salt, progress=progress)
    finally:
        con.close()


def source_files(ws: Workspace, config: ClientConfig) -> list[SourceFile]:
    """Every file of every source, in mapping order then file-name order."""
    files: list[SourceFile] = []
    for source in config.sources:
        matches = sorted(p for p in ws.root.glob(source.files) if p.is_file())
        if not matches:
            raise ConfigError(
                f"{ws.config_path}: source {source.name!r}: files {source.files!r} match no file "
                f"under {ws.root}"
            )
        for path in matches:
            files.append(SourceFile(len(files), source, path, path.relative_to(ws.root).as_posix()))
    return files


def _run_pipeline(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    config: ClientConfig,
    salt: str,
    *,
    progress: bool,
) -> IngestReport:
    con.execute(load_sql(SQL, "macros"))
    con.execute(load_sql(SQL, "schema"))
    limit = datetime.now(UTC).replace(tzinfo=None) + timedelta(
        seconds=parse_window(config.max_future)
    )
    files = source_files(ws, config)
    by_source: dict[str, list[SourceFile]] = {}
    for item in files:
        by_source.setdefault(item.source.name, []).append(item)
    bar = tqdm(total=len(files), desc="ingest", unit="file", disable=None if progress else True)
    for source in config.sources:
        _stage_source(con, config, source, by_source[source.name], salt, limit.isoformat(), bar)
    bar.close()
    _stitch(con)
    for statement in ("customers_map", "final_tables"):
        con.execute(load_sql(SQL, statement))
    return IngestReport.from_connection(con, config.client)


def _stage_source(
    con: duckdb.DuckDBPyConnection,
    config: ClientConfig,
    source: SourceConfig,
    files: list[SourceFile],
    salt: str,
    limit: str,
    bar: tqdm,
) -> None:
    """Read, deduplicate, parse and stage one source's files."""
    raws: list[RawFile] = []
    needed = mapped_columns(source)
    for item in files:
        bar.set_postfix_str(item.relative)
        raw = read_file(con, item.path, source.read, f"raw_{item.file_id}")
        _require_columns(raw, needed, source)
        con.execute(
            f"ALTER TABLE {quote_ident(raw.table)} ADD COLUMN _file INTEGER DEFAULT {item.file_id}"
        )
        raws.append(raw)
        bar.update(1)
    columns = list(dict.fromkeys(c for raw in raws for c in raw.columns))
    table = f"src_{source.name}"
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {quote_ident(r.table)}" for r in raws)
    partition = ", ".join(quote_ident(c) for c in columns) or "_file"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS
        SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY _file, _row) > 1 AS _dup
        FROM ({union})
        """
    )
    for raw in raws:
        con.execute(f"DROP TABLE {quote_ident(raw.table)}")
    compiled = compile_parse(
        config,
        source,
        f"{table}_unique",
        f"parsed_{source.name}",
        salt=salt,
        now_utc=limit,
        file_columns=columns,
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_ident(table + '_unique')} AS "
        f"SELECT * FROM {quote_ident(table)} WHERE NOT _dup"
    )
    execute(con, compiled.sql, compiled.params)
    _stage_rejects(con, source, files, raws, columns)
    _stage_events(con, config, source, files, compiled)
    _stage_ids(con, source, compiled)
    _log_files(con, source, files, raws)
    for suffix in ("", "_unique"):
        con.execute(f"DROP TABLE {quote_ident(table + suffix)}")
    con.execute(f"DROP TABLE {quote_ident('parsed_' + source.name)}")


def _require_columns(raw: RawFile, needed: list[str], source: SourceConfig) -> None:
    present = set(raw.columns)
    for column in needed:
        if column not in present:
            hint = None
            if len(raw.columns) == 1 and any(d in raw.columns[0] for d in ",;\t|"):
                hint = "the header was read as one column: set read.delimiter in client.yml"
            raise InputError(
                f"mapped column {column!r} (source {source.name!r}) is not in the file",
                file=str(raw.path),
                row=1,
                column=column,
                expected=f"a header with {column!r}; the file has {raw.columns}",
                hint=hint,
            )


def _stage_rejects(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    files: list[SourceFile],
    raws: list[RawFile],
    columns: list[str],
) -> None:
    """Rows that failed parsing, and lines the reader could not split, go to `rejects`."""
    raw_json = (
        "json_object("
        + ", ".join(f"$c{i}, s.{quote_ident(c)}" for i, c in enumerate(columns))
        + ")"
        if columns
        else "'{}'"
    )
    params: dict = {f"c{i}": c for i, c in enumerate(columns)}
    params.update(
        feed=source.name, ids=[f.file_id for f in files], names=[f.relative for f in files]
    )
    execute(
        con,
        f"""
        INSERT INTO rejects
        SELECT $feed, $names[list_position($ids, p._file)], p._row, p._rej_column,
               cj_mask(p._rej_value), p._rej_code, p._rej_reason,
               cj_mask(CAST({raw_json} AS VARCHAR))
        FROM {quote_ident("parsed_" + source.name)} p
        JOIN {quote_ident("src_" + source.name + "_unique")} s USING (_file, _row)
        WHERE p._rej_code IS NOT NULL
        ORDER BY p._file, p._row
        """,
        params,
    )
    broken = [
        (source.name, files[i].relative, b.row, None, None, "malformed_line", b.reason, b.raw)
        for i, raw in enumerate(raws)
        for b in raw.broken
    ]
    if broken:
        con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?, ?, cj_mask(?))", broken)


def _stage_events(
    con: duckdb.DuckDBPyConnection,
    config: ClientConfig,
    source: SourceConfig,
    files: list[SourceFile],
    compiled: Compiled,
) -> None:
    """One staged event per accepted row, or one per `events:` entry that happened."""
    targets = {item.target for item in compiled.items}
    default_event, default_channel, default_phase = KIND_DEFAULTS[source.kind]
    attrs = [t for t in targets if t.startswith("attr__")]
    attrs_sql = (
        "json_object("
        + ", ".join(f"'{a.removeprefix('attr__')}', {quote_ident(a)}" for a in sorted(attrs))
        + ")"
        if attrs
        else "NULL::JSON"
    )
    phases = dict(config.phases)
    params = {
        "feed": source.name,
        "kind": source.kind,
        "ids": [f.file_id for f in files],
        "names": [f.relative for f in files],
        "phase_events": list(phases.keys()),
        "phase_values": list(phases.values()),
        "default_phase": source.phase or default_phase,
    }

    def column(name: str, fallback: str = "NULL") -> str:
        return quote_ident(name) if name in targets else fallback

    specs = source.events or [None]
    for index, ev in enumerate(specs):
        if ev is None:
            if isinstance(source.event, str):
                params["const_event"] = source.event
                event_sql = "$const_event"
            else:
                params["const_event"] = default_event
                event_sql = column("event", "$const_event")
            ts_sql, value_sql, outcome_sql = "ts", column("value"), column("outcome")
            channel_sql = column("channel", "$default_channel")
        else:
            event_sql = (
                quote_ident(f"event__{index}")
                if f"event__{index}" in targets
                else f"$event_{index}"
            )
            params[f"event_{index}"] = ev.event if isinstance(ev.event, str) else None
            ts_sql = column(f"ts__{index}", "ts")
            value_sql = column(f"value__{index}", column("value"))
            outcome_sql = column(f"outcome__{index}", column("outcome"))
            channel_sql = column(f"channel__{index}", column("channel", "$default_channel"))
        params["default_channel"] = default_channel
        event_expr = f"CAST({event_sql} AS VARCHAR)"
        execute(
            con,
            f"""
            INSERT INTO stg_events
            SELECT (CAST(_file AS BIGINT) << 32) | _row, $feed, $kind,
                   $names[list_position($ids, _file)], _row, {index},
                   {event_expr}, {ts_sql}, {channel_sql}, {column("source")}, {column("case_id")},
                   {value_sql}, {column("cost")}, {column("duration_s")}, {outcome_sql},
                   {column("score")}, {column("segment")}, {column("region")}, {attrs_sql},
                   coalesce($phase_values[list_position($phase_events, {event_expr})],
                            $default_phase)
            FROM {quote_ident("parsed_" + source.name)}
            WHERE _rej_code IS NULL AND {ts_sql} IS NOT NULL
            """,
            params,
        )


def _stage_ids(con: duckdb.DuckDBPyConnection, source: SourceConfig, compiled: Compiled) -> None:
    """Each accepted row's hashed identifiers (the edges of the stitching graph)."""
    present = [i for i in IDENTIFIERS if i in {item.target for item in compiled.items}]
    for id_type in present:
        con.execute(
            f"""
            INSERT INTO stg_ids
            SELECT (CAST(_file AS BIGINT) << 32) | _row, $feed, $id_type, {quote_ident(id_type)}
            FROM {quote_ident("parsed_" + source.name)}
            WHERE _rej_code IS NULL AND {quote_ident(id_type)} IS NOT NULL
            """,
            {"feed": source.name, "id_type": id_type},
        )


def _log_files(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    files: list[SourceFile],
    raws: list[RawFile],
) -> None:
    """rows read = accepted + rejected + duplicates, per file."""
    counts = query(
        con,
        f"""
        SELECT s._file,
               count(*) AS parsed_rows,
               count(*) FILTER (WHERE s._dup) AS duplicates,
               count(*) FILTER (WHERE p._rej_code IS NOT NULL) AS rejected
        FROM {quote_ident("src_" + source.name)} s
        LEFT JOIN {quote_ident("parsed_" + source.name)} p USING (_file, _row)
        GROUP BY s._file
        """,
    ).set_index("_file")
    events = query(
        con,
        "SELECT source_file, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM stg_events WHERE feed = $feed GROUP BY source_file",
        {"feed": source.name},
    ).set_index("source_file")
    for item, raw in zip(files, raws, strict=True):
        parsed = int(counts["parsed_rows"].get(item.file_id, 0))
        duplicates = int(counts["duplicates"].get(item.file_id, 0))
        rejected = int(counts["rejected"].get(item.file_id, 0)) + len(raw.broken)
        rows_read = parsed + len(raw.broken)
        ev = events.loc[item.relative] if item.relative in events.index else None
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source.name,
                source.kind,
                item.relative,
                _sha256(item.path),
                item.path.stat().st_size,
                rows_read,
                rows_read - rejected - duplicates,
                rejected,
                duplicates,
                0 if ev is None else int(ev["n"]),
                None if ev is None else ev["first_ts"],
                None if ev is None else ev["last_ts"],
            ],
        )


def _stitch(con: duckdb.DuckDBPyConnection, max_rounds: int = 64) -> int:
    """Connected components of the identifier graph; returns the number of rounds."""
    con.execute(load_sql(SQL, "stitch_nodes"))
    step = load_sql(SQL, "stitch_step")
    for round_no in range(1, max_rounds + 1):
        con.execute(step)
        changed = scalar(
            con,
            "SELECT count(*) FROM stitch_next n JOIN stitch_labels l USING (node) "
            "WHERE n.label <> l.label",
        )
        con.execute("CREATE OR REPLACE TEMP TABLE stitch_labels AS SELECT * FROM stitch_next")
        if changed == 0:
            return round_no
    raise RuntimeError(f"identity stitching did not converge in {max_rounds} rounds")


def _write_meta(con: duckdb.DuckDBPyConnection, config: ClientConfig, report: IngestReport) -> None:
    rows: Iterable[tuple[str, str]] = [
        ("cjkit_version", __version__),
        ("client", config.client),
        ("name", config.name),
        ("timezone", config.timezone),
        ("currency", config.currency),
        ("gross_margin", str(config.gross_margin)),
        ("built_at", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(rows))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
