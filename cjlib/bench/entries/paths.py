"""Paths: the event transition matrix (`j.transitions()`): for every customer, consecutive
events in (ts, event_id) order, plus '(start)' -> first event and last event -> '(end)'.
Answer: the count `n` of every (from_state, to_state) pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cjlib.bench.entries.common import chdb_query, journey, parquet_literal
from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

COLUMNS = ("customer_id", "ts", "event_id", "event")
START, END = "(start)", "(end)"

analysis(Analysis(
    "paths", "Paths: event transition matrix",
    "every customer's consecutive events in (ts, event_id) order, with (start) and (end); "
    "answer: the count of each (from, to) pair",
    columns=COLUMNS, key=("from_state", "to_state"), target=True, order=40,
))


def _answer(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["from_state", "to_state", "n"]].copy()
    out["n"] = out["n"].astype("int64")
    return out.reset_index(drop=True)


@register("paths", "cjlib", requires=("cjlib.analyses.paths:transitions",),
          semantics="j.transitions() (level='event', no collapsing, with (start)/(end))")
def cjlib_paths(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        return _answer(j.transitions().df)


@register("paths", "pandas", requires=("pandas", "pyarrow"),
          semantics="read_parquet + sort_values(customer_id, ts, event_id) + shift(-1) + "
                    "groupby().size()")
def pandas_paths(ds: Dataset) -> pd.DataFrame:
    events = pd.read_parquet(ds.events_parquet, columns=list(COLUMNS))
    events = events.sort_values(["customer_id", "ts", "event_id"], ignore_index=True)
    customer, state = events["customer_id"], events["event"]
    same_next = customer.shift(-1) == customer
    first = customer.shift(1) != customer
    pairs = pd.concat([
        pd.DataFrame({"from_state": state[same_next], "to_state": state.shift(-1)[same_next]}),
        pd.DataFrame({"from_state": START, "to_state": state[first]}),
        pd.DataFrame({"from_state": state[~same_next], "to_state": END}),
    ], ignore_index=True)
    return _answer(pairs.groupby(["from_state", "to_state"]).size().rename("n").reset_index())


@register("paths", "polars", requires=("polars",),
          semantics="scan_parquet + sort(customer_id, ts, event_id) + shift(-1) + group_by().len()")
def polars_paths(ds: Dataset) -> pd.DataFrame:
    import polars as pl

    events = (pl.scan_parquet(ds.events_parquet).select(COLUMNS)
              .sort("customer_id", "ts", "event_id")
              .with_columns(
                  same_next=pl.col("customer_id").shift(-1) == pl.col("customer_id"),
                  first=pl.col("customer_id").shift(1).ne_missing(pl.col("customer_id")),
                  next_state=pl.col("event").shift(-1)))
    same_next = pl.col("same_next").fill_null(False)
    pairs = pl.concat([
        events.filter(same_next).select(from_state="event", to_state="next_state"),
        events.filter("first").select(from_state=pl.lit(START), to_state="event"),
        events.filter(~same_next).select(from_state="event", to_state=pl.lit(END)),
    ])
    counts = pairs.group_by("from_state", "to_state").len("n").collect()
    return _answer(counts.to_pandas())


@register("paths", "chdb", requires=("chdb",),
          semantics="groupArray((ts, event_id, event)) per customer, arraySort, ARRAY JOIN "
                    "arrayZip of the sequence with (start)/(end) pushed on")
def chdb_paths(ds: Dataset) -> pd.DataFrame:
    return _answer(chdb_query(f"""
        SELECT pair.1 AS from_state, pair.2 AS to_state, count() AS n
        FROM (
            SELECT arrayMap(x -> x.3, arraySort(groupArray((ts, event_id, event)))) AS seq
            FROM file({parquet_literal(ds)}, Parquet)
            GROUP BY customer_id)
        ARRAY JOIN arrayZip(arrayPushFront(seq, '{START}'), arrayPushBack(seq, '{END}')) AS pair
        GROUP BY from_state, to_state
    """))
