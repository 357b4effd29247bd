"""Read one raw export into a DuckDB temp table of text columns, with the row number a person sees.

Every reader produces the same shape: a temp table holding the file's columns as VARCHAR, the SQL
expression of `_row` over it (CSV/XLSX: the line or sheet row, header = 1; JSONL: the line;
Parquet: the 1-based record), and a list of structurally broken lines (which become rejects). A
CSV table keeps the file's order, so its `_row` is computed from `rowid` when it is read rather
than stored (numbering a large table by rewriting it costs a full copy). DuckDB does the reading;
XLSX goes through pandas' calamine engine because DuckDB's excel extension would have to be
downloaded.
"""

from __future__ import annotations

import codecs
import csv
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cjlib.config.schema import ReadOptions
from cjlib.db import quote_ident, quote_literal
from cjlib.errors import InputError

DUCKDB_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf-16": "utf-16",
}


@dataclass
class BrokenLine:
    """A line the reader could not split into the file's columns."""

    row: int
    reason: str
    raw: str


@dataclass
class RawFile:
    """A file read into `table`: its columns (as named in the file), the SQL expression giving
    each record's `_row` (a column, or computed from `rowid`), and its broken lines."""

    path: Path
    table: str
    columns: list[str]
    rows: int
    broken: list[BrokenLine] = field(default_factory=list)
    row_expr: str = "_row"

    def select(self, file_id: int) -> str:
        """`SELECT` of the file's columns plus `_row` and `_file` (together the row's key)."""
        row = "" if self.row_expr == "_row" else f"{self.row_expr} AS _row, "
        return f"SELECT *, {row}{int(file_id)} AS _file FROM {quote_ident(self.table)}"


def file_format(path: Path, opts: ReadOptions) -> str:
    """The format named in the mapping, else the one the file's extension says."""
    if opts.format:
        return opts.format
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    return {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".csv.gz": "csv",
        ".xlsx": "xlsx",
        ".xlsm": "xlsx",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
    }.get(suffix, "csv")


def read_file(con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, table: str) -> RawFile:
    """Read `path` into temp table `table` (VARCHAR columns + _row)."""
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", file=str(path), expected="a header row")
    kind = file_format(path, opts)
    reader = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet, "jsonl": _read_jsonl}
    return reader[kind](con, path, opts, table)


# ---------------------------------------------------------------------------------------- CSV


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, table: str) -> RawFile:
    encoding = opts.encoding.lower()
    with _utf8_copy(path, encoding) as (readable, duck_encoding):
        header = _header_cells(readable, duck_encoding, opts)
        _refuse_duplicate_header(path, header)
        rejects, scans = f"{table}_rej", f"{table}_scan"
        options = {
            "all_varchar": "true",
            "header": "true" if opts.header else "false",
            "store_rejects": "true",
            "rejects_table": quote_literal(rejects),
            "rejects_scan": quote_literal(scans),
            "encoding": quote_literal(duck_encoding),
            "skip": str(opts.skip),
            "null_padding": "false",
        }
        if opts.delimiter:
            options["delim"] = quote_literal(opts.delimiter)
        if opts.quote:
            options["quote"] = quote_literal(opts.quote)
        args = ", ".join(f"{k} = {v}" for k, v in options.items())
        source = f"read_csv({quote_literal(str(readable))}, {args})"
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS SELECT * FROM {source}"
            )
        except duckdb.Error as exc:
            raise InputError(
                "the file cannot be read as CSV",
                file=str(path),
                expected="a delimited text file",
                hint=_first_line(str(exc)),
            ) from None
        broken_rows = con.execute(
            f"SELECT line, error_type, csv_line, column_name FROM {quote_ident(rejects)} "
            "ORDER BY line"
        ).fetchall()
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(rejects)}")
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(scans)}")
    encoding_errors = [r for r in broken_rows if r[1] == "INVALID ENCODING"]
    if encoding_errors:
        raise InputError(
            f"the file is not valid {duck_encoding}",
            file=str(path),
            row=int(encoding_errors[0][0]),
            expected=f"text in the encoding the mapping names ({opts.encoding})",
            hint="set read.encoding in client.yml, e.g. latin-1 or cp1252",
        )
    columns = [
        c for (c,) in con.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()
    ]
    broken = _dedupe_broken(broken_rows)
    first_data_line = 1 + opts.skip + (1 if opts.header else 0)
    rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
    row_expr = _row_number_sql(first_data_line, [b.row for b in broken])
    return RawFile(path, table, columns, rows, broken, row_expr)


def _dedupe_broken(rows: list[tuple]) -> list[BrokenLine]:
    """DuckDB may report several errors for one line; keep the first per line."""
    seen: dict[int, BrokenLine] = {}
    for line, error_type, raw, column in rows:
        if line in seen:
            continue
        reason = {
            "MISSING COLUMNS": "malformed line: fewer columns than the header (truncated?)",
            "TOO MANY COLUMNS": "malformed line: more columns than the header",
            "UNQUOTED VALUE": "malformed line: a quote is not closed or escaped",
            "LINE SIZE OVER MAXIMUM": "malformed line: longer than the maximum line size",
        }.get(error_type, f"malformed line: {error_type.lower()}")
        if column and error_type == "MISSING COLUMNS":
            reason += f" (ends before column {column!r})"
        seen[int(line)] = BrokenLine(int(line), reason, raw or "")
    return list(seen.values())


def _row_number_sql(first_line: int, broken_lines: list[int]) -> str:
    """SQL for `_row`, the file line of each parsed record, skipping over lines reported broken.

    The k-th parsed record (0-based, its `rowid`: the table keeps the file's order) is on line
    first_line + k + (number of broken lines at or before it). Assumes one record per line (no
    newlines inside quoted fields).
    """
    if not broken_lines:
        return f"(rowid + {int(first_line)})"
    # A record at index k sits past every broken line whose "shift point" is <= k: the i-th
    # broken line (0-based, in order) shifts records from index line - first - i onwards.
    points = [int(line) - first_line - i for i, line in enumerate(sorted(broken_lines))]
    return (
        f"(rowid + {int(first_line)} + len(list_filter([{', '.join(map(str, points))}]::BIGINT[], "
        "lambda p: p <= rowid)))"
    )


class _utf8_copy:
    """Context manager: the file itself when DuckDB reads its encoding, else a UTF-8 copy."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self._tmp: Path | None = None

    def __enter__(self) -> tuple[Path, str]:
        if self.encoding in DUCKDB_ENCODINGS:
            return self.path, DUCKDB_ENCODINGS[self.encoding]
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InputError(
                f"unknown encoding {self.encoding!r}",
                file=str(self.path),
                expected="a Python codec name such as utf-8, latin-1, cp1252, utf-16",
            ) from None
        handle = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
        self._tmp = Path(handle.name)
        try:
            with open(self.path, encoding=self.encoding, newline="") as src, handle as dst:
                writer = codecs.getwriter("utf-8")(dst)
                shutil.copyfileobj(src, writer, 1 << 20)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file is not valid {self.encoding}",
                file=str(self.path),
                expected=f"text in {self.encoding}",
                hint=str(exc),
            ) from None
        return self._tmp, "utf-8"

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


def _header_cells(path: Path, encoding: str, opts: ReadOptions) -> list[str]:
    """The header's cells as written (DuckDB renames duplicates, so we look for ourselves)."""
    if not opts.header:
        return []
    python_encoding = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}[encoding]
    try:
        with open(path, encoding=python_encoding, newline="") as handle:
            for _ in range(opts.skip):
                handle.readline()
            line = handle.readline()
    except UnicodeDecodeError:
        return []  # the reader reports the encoding problem with its line number
    delimiter = opts.delimiter or _guess_delimiter(line)
    return next(csv.reader([line], delimiter=delimiter), [])


def _guess_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d])


def _refuse_duplicate_header(path: Path, header: list[str]) -> None:
    names = [h.strip() for h in header]
    for index, name in enumerate(names):
        if name and names.index(name) != index:
            raise InputError(
                f"the header names column {name!r} twice (columns {names.index(name) + 1} "
                f"and {index + 1})",
                file=str(path),
                row=1,
                column=name,
                expected="unique column names",
            )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# --------------------------------------------------------------------------------------- XLSX


def _read_xlsx(
    con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, table: str
) -> RawFile:
    import pandas as pd

    try:
        frame = pd.read_excel(
            path,
            engine="calamine",
            sheet_name=opts.sheet or 0,
            dtype=str,
            header=0 if opts.header else None,
            skiprows=opts.skip,
            keep_default_na=False,
        )
    except ValueError as exc:
        raise InputError(
            "the workbook cannot be read",
            file=str(path),
            expected=f"an .xlsx workbook{' with sheet ' + repr(opts.sheet) if opts.sheet else ''}",
            hint=_first_line(str(exc)),
        ) from None
    header = [str(c) for c in frame.columns]
    _refuse_duplicate_header(
        path, [h.split(".")[0] if _is_pandas_dupe(h, header) else h for h in header]
    )
    frame.columns = header
    frame = frame.replace({"": None})
    first_row = 1 + opts.skip + (1 if opts.header else 0)
    frame["_row"] = range(first_row, first_row + len(frame))
    con.register("_xlsx_frame", frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS SELECT * FROM _xlsx_frame"
        )
    finally:
        con.unregister("_xlsx_frame")
    return RawFile(path, table, header, len(frame))


def _is_pandas_dupe(name: str, header: list[str]) -> bool:
    """pandas renames a repeated header 'X' to 'X.1'; spot that to report the duplicate."""
    base, _, suffix = name.rpartition(".")
    return bool(base) and suffix.isdigit() and base in header


# ------------------------------------------------------------------------------------ Parquet


def _read_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, table: str
) -> RawFile:
    try:
        schema = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({quote_literal(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(
            "the file cannot be read as Parquet",
            file=str(path),
            expected="a Parquet file",
            hint=_first_line(str(exc)),
        ) from None
    columns = [name for name, *_ in schema]
    casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS "
        f"SELECT {casts}, file_row_number + 1 AS _row "
        f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
    )
    rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
    return RawFile(path, table, columns, rows)


# -------------------------------------------------------------------------------- JSON lines


def _read_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, table: str
) -> RawFile:
    """Read line by line as text, so a malformed line is reported with its number, not skipped.

    Each line is parsed as JSON four times in all: to validate it and to tell an object from
    other JSON (once, kept as `_kind`), to list the keys, and to extract their values.
    """
    lines = f"{table}_lines"
    encoding = DUCKDB_ENCODINGS.get(opts.encoding.lower(), "utf-8")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {quote_ident(lines)} AS
        SELECT line, CASE WHEN json_valid(line) THEN json_type(line) END AS _kind
        FROM read_csv({quote_literal(str(path))}, columns = {{'line': 'VARCHAR'}},
                      delim = '\x1f', quote = '', escape = '', header = false,
                      auto_detect = false, encoding = {quote_literal(encoding)})
        """
    )
    t_lines = quote_ident(lines)
    broken = [
        BrokenLine(int(row), "malformed line: not a JSON object", raw or "")
        for row, raw in con.execute(
            f"SELECT rowid + 1 AS _row, line FROM {t_lines} "
            "WHERE line IS NOT NULL AND trim(line) <> '' AND _kind IS DISTINCT FROM 'OBJECT' "
            "ORDER BY _row"
        ).fetchall()
    ]
    keys = [
        k
        for (k,) in con.execute(
            f"SELECT DISTINCT unnest(json_keys(line)) AS k FROM {t_lines} "
            "WHERE _kind = 'OBJECT' ORDER BY k"
        ).fetchall()
    ]
    # One parse per line: extract every key at once into a list, then name the elements.
    paths = "[" + ", ".join(quote_literal("$." + _json_path_key(k)) for k in keys) + "]"
    selects = ", ".join(f"_v[{i}] AS {quote_ident(k)}" for i, k in enumerate(keys, start=1))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS "
        f"SELECT {selects + ', ' if selects else ''}_row FROM ("
        f"SELECT json_extract_string(line, {paths}) AS _v, rowid + 1 AS _row FROM {t_lines} "
        "WHERE _kind = 'OBJECT')"
    )
    con.execute(f"DROP TABLE {t_lines}")
    rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
    return RawFile(path, table, keys, rows, broken)


def _json_path_key(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'
