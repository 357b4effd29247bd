"""The floor: a bare DuckDB aggregate scan over the columns an analysis needs, from the same
warehouse table, opened the same way (cjlib.db.connect, read-only). Every figure is also given
as a ratio to its analysis's floor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cjlib.bench.registry import ANALYSES, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset


def floor_sql(columns: tuple[str, ...]) -> str:
    """count(*) and bit_xor(hash()) of every column: every value of each column is read once
    (min(), max() and count() of a whole column are answered from DuckDB's column statistics
    without reading the values, so they are no floor)."""
    from cjlib.db import quote_ident

    hashes = ", ".join(f"bit_xor(hash({quote_ident(c)})) AS {quote_ident('h_' + c)}"
                       for c in columns)
    return f"SELECT count(*) AS n, {hashes} FROM events"


def _floor(columns: tuple[str, ...]):
    def run(ds: Dataset) -> pd.DataFrame:
        from cjlib.db import connect, query

        con = connect(ds.warehouse, read_only=True)
        try:
            return query(con, floor_sql(columns))
        finally:
            con.close()

    return run


def register_floors() -> None:
    """One floor entry per analysis that reads the events table (ingest has its own)."""
    for item in ANALYSES.values():
        if item.columns:
            register(item.name, "floor", requires=("duckdb",),
                     semantics=floor_sql(item.columns))(_floor(item.columns))
