"""Cohort retention (`j.retention()` defaults): customers by the calendar week (ISO, from Monday,
in the client's time zone Europe/London) of their first event; period k = weeks between that
week and the week of a later event (any event, up to the data end); at most 26 periods, rows up
to the week holding the data end. Answer per (cohort, period): cohort_size, retained (active in
period k) and retained_on_or_after (active in period k or later).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cjlib.bench.entries.common import chdb_query, journey, parquet_literal
from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

COLUMNS = ("customer_id", "ts")
TZ = "Europe/London"
MAX_PERIODS = 26
ANSWER = ["cohort", "period", "cohort_size", "retained", "retained_on_or_after"]

analysis(Analysis(
    "retention", "Cohort retention (weekly)",
    "cohort = ISO week of each customer's first event in Europe/London; retained in week k = "
    "active in that week; up to 26 weeks; answer: cohort size, retained and retained on or after "
    "per (cohort, k)",
    columns=COLUMNS, key=("cohort", "period"), order=50,
))


@register("retention", "cjlib", requires=("cjlib.analyses.retention:retention",),
          semantics="j.retention() (any event starts and returns, weekly calendar cohorts, "
                    "'first' cohorts)")
def cjlib_retention(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        df = j.retention().df
    return _answer(df)


def _answer(df: pd.DataFrame) -> pd.DataFrame:
    out = df[ANSWER].copy()
    out["cohort"] = pd.to_datetime(out["cohort"]).dt.strftime("%Y-%m-%d")
    for column in ANSWER[1:]:
        out[column] = out[column].astype("int64")
    return out.reset_index(drop=True)


def _grid(members: pd.DataFrame, hits: pd.DataFrame, end_week: pd.Timestamp) -> pd.DataFrame:
    """Shared tail of the pandas and polars answers: members (customer_id, cohort), hits
    (customer_id, cohort, k >= 1 distinct) -> the answer grid."""
    sizes = members.groupby("cohort").size().rename("cohort_size").reset_index()
    sizes["k_max"] = np.minimum((end_week - sizes["cohort"]).dt.days // 7, MAX_PERIODS)
    grid = sizes.loc[sizes.index.repeat(sizes["k_max"] + 1)].copy()
    grid["period"] = grid.groupby("cohort").cumcount()
    on = hits[hits["k"] <= MAX_PERIODS].groupby(["cohort", "k"]).size().rename("retained")
    last = hits.groupby(["cohort", "customer_id"])["k"].max().clip(upper=MAX_PERIODS)
    last_hist = last.reset_index().groupby(["cohort", "k"]).size().rename("last")
    grid = grid.merge(on, left_on=["cohort", "period"], right_index=True, how="left")
    grid = grid.merge(last_hist, left_on=["cohort", "period"], right_index=True, how="left")
    grid = grid.fillna({"retained": 0, "last": 0}).sort_values(["cohort", "period"])
    later = grid.iloc[::-1].groupby("cohort")["last"].cumsum().iloc[::-1]
    grid["retained_on_or_after"] = later
    zero = grid["period"] == 0
    grid.loc[zero, "retained"] = grid.loc[zero, "cohort_size"]
    grid.loc[zero, "retained_on_or_after"] = grid.loc[zero, "cohort_size"]
    return _answer(grid)


def _local_week(ts: pd.Series) -> pd.Series:
    local = ts.dt.tz_localize("UTC").dt.tz_convert(TZ).dt.tz_localize(None)
    day = local.dt.floor("D")
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


@register("retention", "pandas", requires=("pandas", "pyarrow"),
          semantics="read_parquet + tz_convert + week floor + groupby/merge, same rules")
def pandas_retention(ds: Dataset) -> pd.DataFrame:
    events = pd.read_parquet(ds.events_parquet, columns=list(COLUMNS))
    end_week = _local_week(pd.Series([events["ts"].max()])).iloc[0]
    events["week"] = _local_week(events["ts"])
    first = events.groupby("customer_id")["week"].min().rename("cohort").reset_index()
    weeks = events[["customer_id", "week"]].drop_duplicates().merge(first, on="customer_id")
    weeks["k"] = (weeks["week"] - weeks["cohort"]).dt.days // 7
    hits = weeks.loc[weeks["k"] >= 1, ["customer_id", "cohort", "k"]]
    return _grid(first, hits, end_week)


@register("retention", "polars", requires=("polars",),
          semantics="scan_parquet + convert_time_zone + truncate('1w') + group_by/join, "
                    "same rules")
def polars_retention(ds: Dataset) -> pd.DataFrame:
    import polars as pl

    def week(col: pl.Expr) -> pl.Expr:
        return (col.dt.replace_time_zone("UTC").dt.convert_time_zone(TZ)
                .dt.replace_time_zone(None).dt.truncate("1w"))

    weeks = (pl.scan_parquet(ds.events_parquet).select(COLUMNS)
             .group_by("customer_id", week(pl.col("ts")).alias("week")).agg(pl.len()))
    end_week = (pl.scan_parquet(ds.events_parquet).select(week(pl.col("ts").max()))
                .collect().item())
    weeks = weeks.with_columns(cohort=pl.col("week").min().over("customer_id"))
    weeks = weeks.with_columns(k=(pl.col("week") - pl.col("cohort")).dt.total_days() // 7)
    members = weeks.filter(pl.col("k") == 0).select("customer_id", "cohort").collect()
    hits = weeks.filter(pl.col("k") >= 1).select("customer_id", "cohort", "k").collect()
    return _grid(members.to_pandas(), hits.to_pandas(), pd.Timestamp(end_week))


@register("retention", "chdb", requires=("chdb",),
          semantics="toStartOfWeek(toTimeZone(ts), 1) per customer and week, then the grid with "
                    "numbers(); same rules")
def chdb_retention(ds: Dataset) -> pd.DataFrame:
    source = f"file({parquet_literal(ds)}, Parquet)"
    week = f"toStartOfWeek(toTimeZone(ts, '{TZ}'), 1)"
    df = chdb_query(f"""
        WITH
        weeks AS (
            SELECT customer_id, {week} AS week, min(week) OVER (PARTITION BY customer_id) AS cohort
            FROM {source} GROUP BY customer_id, week),
        hits AS (
            SELECT customer_id, cohort, intDiv(dateDiff('day', cohort, week), 7) AS k
            FROM weeks WHERE week > cohort),
        end_week AS (SELECT toStartOfWeek(toTimeZone(max(ts), '{TZ}'), 1) AS w FROM {source}),
        sizes AS (
            SELECT cohort, count() AS cohort_size,
                   least(intDiv(dateDiff('day', cohort, (SELECT w FROM end_week)), 7),
                         {MAX_PERIODS}) AS k_max
            FROM weeks WHERE week = cohort GROUP BY cohort),
        grid AS (
            SELECT cohort, cohort_size, arrayJoin(range(toUInt64(k_max + 1))) AS period
            FROM sizes),
        on_counts AS (
            SELECT cohort, k, count() AS retained FROM hits WHERE k <= {MAX_PERIODS}
            GROUP BY cohort, k),
        last_hist AS (
            SELECT cohort, k, count() AS n FROM (
                SELECT cohort, customer_id, least(max(k), {MAX_PERIODS}) AS k
                FROM hits GROUP BY cohort, customer_id)
            GROUP BY cohort, k)
        SELECT toString(toDate(g.cohort)) AS cohort, g.period AS period, g.cohort_size,
               if(g.period = 0, g.cohort_size, o.retained) AS retained,
               if(g.period = 0, g.cohort_size,
                  sum(l.n) OVER (PARTITION BY g.cohort ORDER BY g.period DESC
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
                   AS retained_on_or_after
        FROM grid g
        LEFT JOIN on_counts o ON o.cohort = g.cohort AND o.k = g.period
        LEFT JOIN last_hist l ON l.cohort = g.cohort AND l.k = g.period
        SETTINGS join_use_nulls = 0
    """)
    return _answer(df)
