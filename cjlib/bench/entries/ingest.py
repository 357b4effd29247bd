"""Ingest: the whole `build_warehouse` over the sample's raw exports (read, dedupe, parse,
quarantine, pseudonymise, stitch, write the canonical tables), in rows read per second.

Its floor is DuckDB reading the same raw files with the same reader options and touching every
column (`count(*), min(COLUMNS(*))` as text), with no parsing, hashing or stitching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

analysis(Analysis(
    "ingest", "Ingest from raw exports",
    "build_warehouse over every raw export of the sample client (CSV, JSON lines, Parquet; "
    "XLSX at the tiny size); rows read per second",
    columns=(), order=10,
))


@register("ingest", "cjlib", requires=("cjlib.ingest:build_warehouse",),
          semantics="cjlib.ingest.build_warehouse(workspace) into a scratch copy of the "
                    "workspace (same raw files and salt)")
def cjlib_ingest(ds: Dataset) -> pd.DataFrame:
    from cjlib.config import find_workspace
    from cjlib.db import connect, query
    from cjlib.ingest import build_warehouse

    build_warehouse(find_workspace(ds.scratch), progress=False)

    con = connect(ds.scratch / "warehouse.duckdb", read_only=True)
    try:
        return query(con, "SELECT (SELECT sum(rows_read) FROM ingest_log) AS rows_read, "
                          "(SELECT count(*) FROM events) AS events, "
                          "(SELECT count(*) FROM customers) AS customers")
    finally:
        con.close()


def floor_sources(ds: Dataset) -> list[str]:
    """One DuckDB table expression per raw file DuckDB can read without an extension."""
    from cjlib.config import find_workspace
    from cjlib.db import quote_literal
    from cjlib.ingest.build import source_files
    from cjlib.ingest.readers import DUCKDB_ENCODINGS, file_format

    ws = find_workspace(ds.scratch if ds.scratch.exists() else ds.workspace)
    out = []
    for item in source_files(ws, ws.config):
        opts, path = item.source.read, quote_literal(str(item.path))
        kind = file_format(item.path, opts)
        if kind == "csv" and opts.encoding.lower() in DUCKDB_ENCODINGS:
            args = {"all_varchar": "true", "header": str(opts.header).lower(),
                    "skip": str(opts.skip), "ignore_errors": "true",
                    "encoding": quote_literal(DUCKDB_ENCODINGS[opts.encoding.lower()])}
            if opts.delimiter:
                args["delim"] = quote_literal(opts.delimiter)
            if opts.quote:
                args["quote"] = quote_literal(opts.quote)
            out.append(f"read_csv({path}, {', '.join(f'{k} = {v}' for k, v in args.items())})")
        elif kind == "jsonl":
            out.append(f"read_json({path}, format = 'newline_delimited', ignore_errors = true)")
        elif kind == "parquet":
            out.append(f"read_parquet({path})")
    return out


@register("ingest", "floor", requires=("duckdb",),
          semantics="SELECT count(*), min(COLUMNS(*)) FROM read_csv/read_json/read_parquet(file) "
                    "for every raw file (XLSX files are not in the floor)")
def floor_ingest(ds: Dataset) -> pd.DataFrame:
    from cjlib.db import connect, query

    con = connect(None)
    try:
        rows = 0
        for source in floor_sources(ds):
            rows += int(query(con, f"SELECT count(*) AS n, min(COLUMNS(*)) FROM {source}")["n"][0])
        return pd.DataFrame({"rows_read": [rows]})
    finally:
        con.close()
