"""The funnel, computed by cjlib and by the peers with the same semantics.

Question: customers through page_view -> quote_start -> quote -> purchase within 30 days of the
entry (PostHog defaults: every page_view opens an attempt, step k at or after step k-1 and within
the window from the entry, inclusive; a customer counts at the furthest step any attempt reached).
Answer: `reached` per step.

ClickHouse's `windowFunnel(window)` default mode is this rule: every step-1 event (re)starts the
chain, a level-k event extends a level-(k-1) chain whose first event is at most `window` earlier,
events are taken in (time, step) order so equal times count as "at or after", and the result is
the highest level any chain reached. pandas and polars implement it with as-of joins: each
attempt takes the earliest next-step event at or after its previous step (greedy earliest is
optimal for one attempt), then a customer's furthest level is the best attempt's.

A second question, `funnel_first`, is retentioneering 5's funnel: a path's first step-1 event,
then the earliest step-2 event after it, and so on, with no window (Mixpanel classic
first-entry). cjlib answers it with entry="first" and a window longer than the data.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

import pandas as pd

from cjlib.bench.entries.common import chdb_query, journey, parquet_literal
from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

STEPS = ("page_view", "quote_start", "quote", "purchase")
WINDOW = timedelta(days=30)
NO_WINDOW = "36500d"  # longer than any data: "no window"
COLUMNS = ("customer_id", "ts", "event")

analysis(Analysis(
    "funnel", "Funnel (PostHog defaults)",
    f"{' -> '.join(STEPS)}, 30-day window from each entry, every entry an attempt, furthest "
    "step per customer; answer: customers reaching each step",
    columns=COLUMNS, key=("step",), target=True, order=20,
))
analysis(Analysis(
    "funnel_first", "Funnel, first entry, no window (retentioneering 5)",
    f"{' -> '.join(STEPS)}, from each customer's first page_view, each step the earliest after "
    "the previous one, no window; answer: customers reaching each step",
    columns=COLUMNS, key=("step",), order=21,
))


def _reached(counts: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"step": range(1, len(counts) + 1), "reached": counts})


def _cjlib_answer(df: pd.DataFrame) -> pd.DataFrame:
    return _reached([int(x) for x in df.sort_values("step")["reached"]])


@register("funnel", "cjlib", requires=("cjlib.analyses.funnel:funnel",),
          semantics="j.funnel(steps, window='30d') (defaults: entry='every', order='ordered')")
def cjlib_funnel(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        return _cjlib_answer(j.funnel(list(STEPS), window="30d").df)


@register("funnel_first", "cjlib", requires=("cjlib.analyses.funnel:funnel",),
          semantics=f"j.funnel(steps, window='{NO_WINDOW}', entry='first')")
def cjlib_funnel_first(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        return _cjlib_answer(j.funnel(list(STEPS), window=NO_WINDOW, entry="first").df)


def _read_pandas(ds: Dataset) -> pd.DataFrame:
    return pd.read_parquet(ds.events_parquet, columns=list(COLUMNS),
                           filters=[("event", "in", list(STEPS))])


@register("funnel", "pandas", requires=("pandas", "pyarrow"),
          semantics="read_parquet (step events only) + one merge_asof(direction='forward') per "
                    "step; same rule, so the counts must be equal")
def pandas_funnel(ds: Dataset) -> pd.DataFrame:
    events = _read_pandas(ds)
    alive = events.loc[events["event"] == STEPS[0], ["customer_id", "ts"]]
    alive = alive.rename(columns={"ts": "t_entry"}).assign(t_prev=lambda d: d["t_entry"])
    counts = [alive["customer_id"].nunique()]
    for step in STEPS[1:]:
        right = events.loc[events["event"] == step, ["customer_id", "ts"]].sort_values("ts")
        matched = pd.merge_asof(alive.sort_values("t_prev"), right, left_on="t_prev",
                                right_on="ts", by="customer_id", direction="forward")
        ok = matched["ts"].notna() & (matched["ts"] - matched["t_entry"] <= WINDOW)
        alive = matched.loc[ok, ["customer_id", "t_entry", "ts"]].rename(columns={"ts": "t_prev"})
        counts.append(alive["customer_id"].nunique())
    return _reached(counts)


@register("funnel", "polars", requires=("polars",),
          semantics="scan_parquet (step events only) + one join_asof(strategy='forward') per "
                    "step; same rule, so the counts must be equal")
def polars_funnel(ds: Dataset) -> pd.DataFrame:
    import polars as pl

    events = (pl.scan_parquet(ds.events_parquet).select(COLUMNS)
              .filter(pl.col("event").is_in(list(STEPS))).collect())
    alive = (events.filter(pl.col("event") == STEPS[0])
             .select("customer_id", pl.col("ts").alias("t_entry"), pl.col("ts").alias("t_prev")))
    counts = [alive["customer_id"].n_unique()]
    for step in STEPS[1:]:
        right = events.filter(pl.col("event") == step).select("customer_id", "ts").sort("ts")
        matched = alive.sort("t_prev").join_asof(
            right, left_on="t_prev", right_on="ts", by="customer_id", strategy="forward",
            check_sortedness=False)
        alive = (matched.filter(pl.col("ts").is_not_null()
                                & (pl.col("ts") - pl.col("t_entry") <= WINDOW))
                 .select("customer_id", "t_entry", pl.col("ts").alias("t_prev")))
        counts.append(alive["customer_id"].n_unique())
    return _reached(counts)


@register("funnel", "chdb", requires=("chdb",),
          semantics="ClickHouse windowFunnel(30 days in µs) default mode over the Parquet file "
                    "(PostHog's funnel engine); reached_k = customers with level >= k")
def chdb_funnel(ds: Dataset) -> pd.DataFrame:
    window_us = int(WINDOW.total_seconds() * 1_000_000)
    conditions = ", ".join(f"event = '{s}'" for s in STEPS)
    names = ", ".join(f"'{s}'" for s in STEPS)
    levels = chdb_query(f"""
        SELECT level, count() AS n FROM (
            SELECT customer_id,
                   windowFunnel({window_us})(toUInt64(toUnixTimestamp64Micro(ts)), {conditions})
                       AS level
            FROM file({parquet_literal(ds)}, Parquet)
            WHERE event IN ({names})
            GROUP BY customer_id)
        GROUP BY level
    """)
    at_level = dict(zip(levels["level"].astype(int), levels["n"].astype(int), strict=True))
    return _reached([sum(n for lv, n in at_level.items() if lv >= k)
                     for k in range(1, len(STEPS) + 1)])


@register("funnel", "duckdb", requires=("duckdb",),
          semantics="hand-written DuckDB SQL over the same warehouse: one ASOF join per step "
                    "(each step event takes the latest start of the previous level at or before "
                    "it, kept within the window), counts only; windowFunnel's rule in SQL")
def duckdb_funnel(ds: Dataset) -> pd.DataFrame:
    from cjlib.db import connect, query

    levels = ["l1 AS (SELECT customer_id, ts, ts AS s FROM ev WHERE step = 1)"]
    for k in range(2, len(STEPS) + 1):
        levels.append(
            f"l{k} AS (SELECT e.customer_id, e.ts, p.s FROM (SELECT * FROM ev WHERE step = {k}) e"
            f" ASOF JOIN l{k - 1} p ON p.customer_id = e.customer_id AND p.ts <= e.ts"
            " WHERE e.ts - p.s <= $window)")
    counts = " UNION ALL ".join(f"SELECT {k} AS step, count(DISTINCT customer_id) AS reached "
                                f"FROM l{k}" for k in range(1, len(STEPS) + 1))
    sql = (f"WITH ev AS (SELECT customer_id, ts, list_position($steps, event) AS step "
           f"FROM events WHERE list_contains($steps, event)), {', '.join(levels)} {counts}")
    con = connect(ds.warehouse, read_only=True)
    try:
        df = query(con, sql, {"steps": list(STEPS), "window": WINDOW})
    finally:
        con.close()
    return _reached([int(x) for x in df.sort_values("step")["reached"]])


@register("funnel_first", "retentioneering", requires=("retentioneering",),
          semantics="Eventstream(step events).funnel_data(steps): first step-1 event per path, "
                    "each next step strictly later in the path's (time, index) order, no window; "
                    "unique_paths per step")
def retentioneering_funnel(ds: Dataset) -> pd.DataFrame:
    os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")  # no usage tracking (before import)
    from retentioneering import Eventstream

    events = _read_pandas(ds).rename(columns={"customer_id": "user_id", "ts": "timestamp"})
    stream = Eventstream(events)
    steps = stream.funnel_data(steps=list(STEPS))["steps"]
    return _reached([int(s["unique_paths"]) for s in steps])
