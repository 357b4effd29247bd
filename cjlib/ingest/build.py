"""Build a client's warehouse: read every export, parse it by the mapping, quarantine what cannot be
used, pseudonymise and stitch identities, and write the canonical tables.

The build goes to a temporary file that replaces `warehouse.duckdb` only when everything
succeeded, so a failed ingest leaves the previous warehouse intact. The staged events and
identifiers, which accumulate over every source, and the stitching tables live in a second,
attached database file that is deleted afterwards: as persistent tables they are stored compressed
and DuckDB can evict them from memory without writing them out, where temporary tables are spilled
uncompressed (at 100M events that outgrew 20 GB of temp space). A source's raw and parsed rows
stay in temp tables, dropped once the source is staged. `check_workspace` runs the same pipeline
in memory and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
from tqdm.auto import tqdm

from cjlib import __version__
from cjlib.config.schema import IDENTIFIERS, KIND_DEFAULTS, ClientConfig, SourceConfig, parse_window
from cjlib.config.workspace import Workspace
from cjlib.db import connect, execute, load_sql, quote_ident, quote_literal
from cjlib.errors import ConfigError, InputError
from cjlib.ingest.compile import Compiled, compile_parse, mapped_columns
from cjlib.ingest.readers import RawFile, read_file
from cjlib.ingest.report import IngestReport
from cjlib.ingest.stitch import row_customers, stitch

SQL = "cjlib.ingest.sql"
STAGING = "staging"  # the attached database of intermediate tables (the build's current database)
BUILD_MEMORY_LIMIT = "3GB"  # DuckDB's buffer pool, for a process that must stay under 4 GiB
STITCH_MEMORY_LIMIT = "1GB"  # the pool while numpy holds the stitching arrays (~1.5 GB at 100M)
# events sorted at once when the events table is written (~2 GB of wide rows at most)
EVENTS_PER_SORT = 12_000_000
BUILD_TEMP_LIMIT = "20GB"  # spilled data; past this the build fails rather than fill the disk
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
    staging = target.with_name(f".{target.name}.staging-{os.getpid()}")
    for stale in (building, staging):
        _remove_database(stale)
    con = connect(building)
    try:
        report = _run_pipeline(con, ws, config, salt, staging=staging, progress=progress)
        _write_meta(con, config, report)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        for partial in (building, staging):
            _remove_database(partial)
        raise
    con.close()
    _remove_database(staging)
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
        return _run_pipeline(con, ws, config, salt, staging=None, progress=progress)
    finally:
        con.close()


def _remove_database(path: Path) -> None:
    """A DuckDB database file and its write-ahead log."""
    for part in (path, path.with_name(path.name + ".wal")):
        part.unlink(missing_ok=True)


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
    staging: Path | None,
    progress: bool,
) -> IngestReport:
    """Stage every file, stitch, write the warehouse tables; `staging` is the file for the
    intermediate tables (in memory when None)."""
    _configure(con)
    con.execute(load_sql(SQL, "macros"))
    con.execute(load_sql(SQL, "schema"))
    home = _enter_staging(con, staging)
    con.execute(load_sql(SQL, "staging"))
    limit = datetime.now(UTC).replace(tzinfo=None) + timedelta(
        seconds=parse_window(config.max_future)
    )
    files = source_files(ws, config)
    feed_names = sorted(source.name for source in config.sources)
    con.executemany(
        "INSERT INTO stg_files VALUES (?, ?, ?, ?)",
        [(f.file_id, f.source.name, f.source.kind, f.relative) for f in files],
    )
    by_source: dict[str, list[SourceFile]] = {}
    for item in files:
        by_source.setdefault(item.source.name, []).append(item)
    bar = tqdm(total=len(files), desc="ingest", unit="file", disable=None if progress else True)
    counts: list[FileCounts] = []
    for source in config.sources:
        counts += _stage_source(con, config, source, by_source[source.name], limit.isoformat(), bar)
    bar.close()
    _log_files(con, files, counts)
    _run_script(con, "stitch_nodes", {"salt": salt})
    _run_script(con, "row_ids")
    # numpy's stitching arrays share the process's memory with DuckDB's buffer pool: the pool is
    # made smaller meanwhile (DuckDB evicts or spills the rest)
    con.execute(f"SET memory_limit = '{STITCH_MEMORY_LIMIT}'")
    components = stitch(con)
    _run_script(con, "customers_map")
    row_customers(con, components)
    del components
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
    id_types = sorted(IDENTIFIERS)
    params = {
        "feeds": [f.source.name for f in files],
        "kinds": [f.source.kind for f in files],
        "names": [f.relative for f in files],
        "feed_nos": [feed_names.index(f.source.name) for f in files],
        "feed_names": feed_names,
        "last_feed": len(feed_names) - 1,
        "id_types": id_types,
        "last_type": len(id_types) - 1,
        "phase_events": list(dict(config.phases).keys()),
        "phase_values": list(dict(config.phases).values()),
        "default_phases": [f.source.phase or KIND_DEFAULTS[f.source.kind][2] for f in files],
    }
    _run_script(con, "final_tables", params)
    _write_events(con, params)
    _run_script(con, "customers", params)
    _leave_staging(con, home)
    return IngestReport.from_connection(con, config.client)


def _write_events(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    """The events table, sorted by customer and time: sql/events.sql once per range of customer
    ids holding about EVENTS_PER_SORT events, in order, so each sort fits in memory."""
    n_events, n_customers = con.execute(
        "SELECT (SELECT count(*) FROM stg_events), (SELECT max(customer_id) FROM row_customer)"
    ).fetchone()
    parts = max(1, -(-n_events // EVENTS_PER_SORT))
    bounds = [round(i * (n_customers or 0) / parts) for i in range(parts + 1)]
    for after, last in pairwise(bounds):
        _run_script(con, "events", {**params, "after_customer": after, "last_customer": last})
    con.execute("DROP TABLE stg_events")


def _enter_staging(con: duckdb.DuckDBPyConnection, staging: Path | None) -> str:
    """Attach the staging database and make it the current one, so the intermediate tables are
    created there; the warehouse's tables (created before) are still found by name. Returns the
    warehouse's catalog name."""
    home = con.execute("SELECT current_database()").fetchone()[0]
    location = ":memory:" if staging is None else str(staging)
    con.execute(f"ATTACH {quote_literal(location)} AS {STAGING}")
    con.execute(f"USE {STAGING}")
    con.execute(f"SET search_path = {quote_literal(f'{STAGING}.main,{home}.main')}")
    return home


def _leave_staging(con: duckdb.DuckDBPyConnection, home: str) -> None:
    """Back to the warehouse as the current database; the staging database is detached (its file
    is deleted by the caller)."""
    con.execute(f"USE {quote_ident(home)}")
    con.execute(f"DETACH {STAGING}")


def _run_script(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run the statements of sql/`name`.sql one by one (DuckDB binds parameters per statement);
    statements end with a semicolon at the end of a line."""
    for statement in load_sql(SQL, name).split(";\n"):
        lines = [line.strip() for line in statement.splitlines()]
        if any(line and not line.startswith("--") for line in lines):
            execute(con, statement, params)


def _configure(con: duckdb.DuckDBPyConnection) -> None:
    """Build settings: DuckDB's memory below the 4 GiB the build may use (it spills the rest to
    its temp directory, itself bounded; numpy's stitching arrays and Python come on top).
    Insertion order stays preserved: CSV rows are numbered by `rowid`."""
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
    con.execute(f"SET max_temp_directory_size = '{BUILD_TEMP_LIMIT}'")


@dataclass(frozen=True)
class FileCounts:
    """rows read = accepted + rejected + duplicates, for one file."""

    file_id: int
    parsed: int
    duplicates: int
    rejected: int
    broken: int


def _stage_source(
    con: duckdb.DuckDBPyConnection,
    config: ClientConfig,
    source: SourceConfig,
    files: list[SourceFile],
    limit: str,
    bar: tqdm,
) -> list[FileCounts]:
    """Read, deduplicate, parse and stage one source's files."""
    raws: list[RawFile] = []
    needed = mapped_columns(source)
    for item in files:
        bar.set_postfix_str(item.relative)
        raw = read_file(con, item.path, source.read, f"raw_{item.file_id}")
        _require_columns(raw, needed, source)
        raws.append(raw)
        bar.update(1)
    columns = list(dict.fromkeys(c for raw in raws for c in raw.columns))
    src, dup, unique = (f"{prefix}_{source.name}" for prefix in ("src", "dup", "unique"))
    parsed = f"parsed_{source.name}"
    union = " UNION ALL BY NAME ".join(
        raw.select(item.file_id) for item, raw in zip(files, raws, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(src)} AS {union}")
    _find_duplicates(con, src, dup, columns)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {quote_ident(unique)} AS SELECT * FROM {quote_ident(src)} "
        f"ANTI JOIN {quote_ident(dup)} USING (_file, _row)"
    )
    compiled = compile_parse(config, source, unique, parsed, now_utc=limit, file_columns=columns)
    execute(con, compiled.sql, compiled.params)
    _stage_rejects(con, source, files, raws, columns)
    for statement in (f"DROP VIEW {quote_ident(unique)}", f"DROP VIEW {quote_ident(src)}"):
        con.execute(statement)
    for raw in raws:
        con.execute(f"DROP TABLE {quote_ident(raw.table)}")
    _stage_events(con, source, compiled)
    _stage_ids(con, source, compiled)
    tallies = {
        file_id: (dups, rejected)
        for file_id, dups, rejected in con.execute(
            f"""
            SELECT _file, sum(dups)::BIGINT, sum(rejected)::BIGINT FROM (
                SELECT _file, count(*) AS dups, 0 AS rejected FROM {quote_ident(dup)} GROUP BY _file
                UNION ALL
                SELECT _file, 0, count(*) FROM {quote_ident(parsed)}
                WHERE _rej_code IS NOT NULL GROUP BY _file
            ) GROUP BY _file
            """
        ).fetchall()
    }
    con.execute(f"DROP TABLE {quote_ident(parsed)}")
    con.execute(f"DROP TABLE {quote_ident(dup)}")
    return [
        FileCounts(item.file_id, raw.rows, *tallies.get(item.file_id, (0, 0)), len(raw.broken))
        for item, raw in zip(files, raws, strict=True)
    ]


def _find_duplicates(
    con: duckdb.DuckDBPyConnection, src: str, dup: str, columns: list[str]
) -> None:
    """(_file, _row) of every exact repeat of an earlier row (same text in every column).

    Rows are compared in full only where their hash is shared, so the window that orders the
    repeats covers a few rows rather than every row of the source.
    """
    cols = ", ".join(quote_ident(c) for c in columns) or "_file"
    t = quote_ident(src)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {quote_ident(dup)} AS
        SELECT _file, _row FROM (
            SELECT _file, _row,
                   row_number() OVER (PARTITION BY {cols} ORDER BY _file, _row) AS _n
            FROM {t}
            WHERE hash({cols}) IN (SELECT hash({cols}) FROM {t} GROUP BY 1 HAVING count(*) > 1)
        )
        WHERE _n > 1
        """
    )


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
        JOIN {quote_ident("src_" + source.name)} s USING (_file, _row)
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


def _stage_events(con: duckdb.DuckDBPyConnection, source: SourceConfig, compiled: Compiled) -> None:
    """One staged event per accepted row, or one per `events:` entry that happened. The file's
    feed, kind and name, and the phase, are derived when the events are written."""
    targets = {item.target for item in compiled.items}
    default_event, default_channel, _ = KIND_DEFAULTS[source.kind]
    attrs = [t for t in targets if t.startswith("attr__")]
    attrs_sql = (
        "json_object("
        + ", ".join(f"'{a.removeprefix('attr__')}', {quote_ident(a)}" for a in sorted(attrs))
        + ")"
        if attrs
        else "NULL::JSON"
    )
    params: dict = {}

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
        event_id = f"(((CAST(_file AS BIGINT) << 32) | _row) << 4) | {index}"
        parsed = quote_ident("parsed_" + source.name)
        execute(
            con,
            f"""
            INSERT INTO stg_events
            SELECT {event_id},
                   {event_expr}, {ts_sql}, {channel_sql}, {column("source")}, {column("case_id")},
                   {value_sql}, {column("cost")}, {column("duration_s")}, {outcome_sql},
                   {column("score")}, {attrs_sql}
            FROM {parsed}
            WHERE _rej_code IS NULL AND {ts_sql} IS NOT NULL
            """,
            params,
        )
        profile = [column(name) for name in ("segment", "region") if name in targets]
        if profile:
            con.execute(
                f"""
                INSERT INTO stg_profile
                SELECT {event_id}, {ts_sql}, {column("segment")}, {column("region")}
                FROM {parsed}
                WHERE _rej_code IS NULL AND {ts_sql} IS NOT NULL
                  AND ({" OR ".join(f"{c} IS NOT NULL" for c in profile)})
                """
            )


def _stage_ids(con: duckdb.DuckDBPyConnection, source: SourceConfig, compiled: Compiled) -> None:
    """Each accepted row's normalised identifiers (the edges of the stitching graph), with the
    time of the row's first event (NULL when it has none)."""
    targets = {item.target for item in compiled.items}
    present = [i for i in IDENTIFIERS if i in targets]
    times = list(
        dict.fromkeys(
            quote_ident(f"ts__{index}") if f"ts__{index}" in targets else "ts"
            for index in range(len(source.events or [None]))
        )
        if source.events
        else ["ts"]
    )
    first_ts = times[0] if len(times) == 1 else f"least({', '.join(times)})"
    for id_type in present:
        con.execute(
            f"""
            INSERT INTO stg_ids
            SELECT (CAST(_file AS BIGINT) << 32) | _row, $id_type, {quote_ident(id_type)},
                   {first_ts}
            FROM {quote_ident("parsed_" + source.name)}
            WHERE _rej_code IS NULL AND {quote_ident(id_type)} IS NOT NULL
            """,
            {"id_type": id_type},
        )


def _log_files(
    con: duckdb.DuckDBPyConnection, files: list[SourceFile], counts: list[FileCounts]
) -> None:
    """One ingest_log row per file, in mapping order; its events counted in one pass."""
    rows = []
    for item, c in zip(files, counts, strict=True):
        rejected = c.rejected + c.broken
        rows_read = c.parsed + c.broken
        rows.append(
            (
                item.file_id,
                _sha256(item.path),
                item.path.stat().st_size,
                rows_read,
                rows_read - rejected - c.duplicates,
                rejected,
                c.duplicates,
            )
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_log (file_id INTEGER, sha256 VARCHAR, bytes BIGINT, "
        "rows_read BIGINT, accepted BIGINT, rejected BIGINT, duplicates BIGINT)"
    )
    con.executemany("INSERT INTO stg_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(load_sql(SQL, "ingest_log"))
    con.execute("DROP TABLE stg_log")


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
