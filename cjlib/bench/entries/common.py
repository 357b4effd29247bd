"""Helpers shared by the benchmark entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset
    from cjlib.journey import Journey


@contextmanager
def journey(ds: Dataset) -> Iterator[Journey]:
    """The sample client's warehouse opened as an analyst would (`cjlib.open`), then closed."""
    import cjlib

    j = cjlib.open(str(ds.workspace))
    try:
        yield j
    finally:
        j.con.close()


def chdb_query(sql: str):
    """Run one ClickHouse query in-process (chdb) and return a pandas DataFrame."""
    import chdb

    return chdb.query(sql, "DataFrame")


def parquet_literal(ds: Dataset) -> str:
    """The events Parquet file as a ClickHouse string literal."""
    return "'" + str(ds.events_parquet).replace("\\", "\\\\").replace("'", "\\'") + "'"
