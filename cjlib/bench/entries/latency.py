"""Follow-up latency effect, counts per latency bucket (the part every engine can compute).

Rules (cjlib/analyses/sql/latency.sql): a case is a case_id of a `quote` event (or one quote
without a case_id), opened at its first occurrence (ties by event_id), belonging to that
occurrence's customer. Latency = time from the opening to the first `followup_call` at or after
it: a follow-up with a case_id counts for that case only, one without a case_id for every case of
its customer; a first follow-up later than the 30-day window is "no follow-up". Buckets:
latency <= 20 min, (20, 60] min, > 60 min, and no follow-up. Converted = a `purchase` by the
customer within [opening, opening + 30 days]. Answer per bucket: cases and conversions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cjlib.bench.entries.common import chdb_query, journey, parquet_literal
from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

CASE, FOLLOWUP, OUTCOME = "quote", "followup_call", "purchase"
WINDOW = timedelta(days=30)
EDGES_MIN = (20, 60)
LABELS = ("within 20 min", "20 min-1 h", "after 1 h", "no follow-up")
COLUMNS = ("event_id", "customer_id", "ts", "event", "case_id")

analysis(Analysis(
    "latency", "Follow-up latency effect",
    f"per {CASE} case: time to the first {FOLLOWUP} (of the case, or without a case of the "
    f"customer) within 30 days, bucketed {', '.join(LABELS)}; converted = {OUTCOME} within 30 "
    "days; answer: cases and conversions per bucket",
    columns=COLUMNS, key=("bucket",), target=True, order=30,
))


def _answer(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["bucket", "cases", "conversions"]].copy()
    out["bucket"] = out["bucket"].astype(str)
    out[["cases", "conversions"]] = out[["cases", "conversions"]].astype("int64")
    return out.sort_values("bucket").reset_index(drop=True)


@register("latency", "cjlib", requires=("cjlib.analyses.latency:latency_effect",),
          semantics="j.latency_effect(buckets=[0, 20, 60], adjust_for=None) (defaults: "
                    "quote / followup_call / purchase, 30 days); cjlib also computes Wilson "
                    "intervals, risk ratios and a 400-draw bootstrap of where the effect is gone")
def cjlib_latency(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        result = j.latency_effect(case_event=CASE, followup_events=[FOLLOWUP],
                                  conversion_event=OUTCOME, window="30d",
                                  buckets=[0, *EDGES_MIN], adjust_for=None)
    return _answer(result.df)


def _bucket(latency_min: np.ndarray) -> np.ndarray:
    lo, hi = EDGES_MIN
    return np.select([np.isnan(latency_min), latency_min <= lo, latency_min <= hi],
                     [LABELS[3], LABELS[0], LABELS[1]], LABELS[2])


@register("latency", "pandas", requires=("pandas", "pyarrow"),
          semantics="read_parquet + groupby(case) + merge (by case) and merge_asof (by "
                    "customer) for follow-ups and purchases; same rules")
def pandas_latency(ds: Dataset) -> pd.DataFrame:
    events = pd.read_parquet(ds.events_parquet, columns=list(COLUMNS),
                             filters=[("event", "in", [CASE, FOLLOWUP, OUTCOME])])
    opened = events[events["event"] == CASE].sort_values(["ts", "event_id"])
    opened = opened.assign(case_key=opened["case_id"].fillna(
        "event:" + opened["event_id"].astype(str)))
    cases = opened.groupby("case_key", as_index=False, sort=False).agg(
        case_id=("case_id", "first"), customer_id=("customer_id", "first"), t0=("ts", "first"))
    follow = events[events["event"] == FOLLOWUP]
    by_case = follow[["case_id", "ts"]].merge(cases[["case_key", "case_id", "t0"]], on="case_id")
    by_case = (by_case[by_case["ts"] >= by_case["t0"]].groupby("case_key")["ts"].min()
               .rename("t_case"))
    ordered = cases.sort_values("t0")
    by_customer = pd.merge_asof(
        ordered[["case_key", "customer_id", "t0"]],
        follow.loc[follow["case_id"].isna(), ["customer_id", "ts"]].sort_values("ts")
        .rename(columns={"ts": "t_customer"}),
        left_on="t0", right_on="t_customer", by="customer_id", direction="forward")
    conversion = pd.merge_asof(
        ordered[["case_key", "customer_id", "t0"]],
        events.loc[events["event"] == OUTCOME, ["customer_id", "ts"]].sort_values("ts")
        .rename(columns={"ts": "t_conv"}),
        left_on="t0", right_on="t_conv", by="customer_id", direction="forward")
    cases = (cases.merge(by_case, left_on="case_key", right_index=True, how="left")
             .merge(by_customer[["case_key", "t_customer"]], on="case_key")
             .merge(conversion[["case_key", "t_conv"]], on="case_key"))
    wait = cases[["t_case", "t_customer"]].min(axis=1) - cases["t0"]
    latency = (wait.where(wait <= WINDOW).dt.total_seconds() / 60).to_numpy(dtype=float)
    cases["bucket"] = _bucket(latency)
    cases["won"] = (cases["t_conv"] - cases["t0"]) <= WINDOW
    out = cases.groupby("bucket", as_index=False).agg(cases=("case_key", "size"),
                                                      conversions=("won", "sum"))
    return _answer(out)


@register("latency", "polars", requires=("polars",),
          semantics="scan_parquet + group_by(case) + join (by case) and join_asof (by "
                    "customer) for follow-ups and purchases; same rules")
def polars_latency(ds: Dataset) -> pd.DataFrame:
    import polars as pl

    events = (pl.scan_parquet(ds.events_parquet).select(COLUMNS)
              .filter(pl.col("event").is_in([CASE, FOLLOWUP, OUTCOME])).collect())
    cases = (events.filter(pl.col("event") == CASE).sort("ts", "event_id")
             .with_columns(case_key=pl.coalesce(
                 "case_id", pl.lit("event:") + pl.col("event_id").cast(pl.String)))
             .group_by("case_key", maintain_order=True)
             .agg(pl.col("case_id").first(), pl.col("customer_id").first(),
                  t0=pl.col("ts").first())
             .sort("t0"))
    follow = events.filter(pl.col("event") == FOLLOWUP)
    by_case = (follow.select("case_id", "ts")
               .join(cases.select("case_key", "case_id", "t0"), on="case_id")
               .filter(pl.col("ts") >= pl.col("t0"))
               .group_by("case_key").agg(t_case=pl.col("ts").min()))
    by_customer = cases.select("case_key", "customer_id", "t0").join_asof(
        follow.filter(pl.col("case_id").is_null()).select("customer_id", t_customer="ts")
        .sort("t_customer"),
        left_on="t0", right_on="t_customer", by="customer_id", strategy="forward",
        check_sortedness=False)
    conversion = cases.select("case_key", "customer_id", "t0").join_asof(
        events.filter(pl.col("event") == OUTCOME).select("customer_id", t_conv="ts")
        .sort("t_conv"),
        left_on="t0", right_on="t_conv", by="customer_id", strategy="forward",
        check_sortedness=False)
    lo, hi = EDGES_MIN
    wait = pl.min_horizontal("t_case", "t_customer") - pl.col("t0")
    minutes = wait.dt.total_microseconds() / 60e6
    out = (cases.join(by_case, on="case_key", how="left")
           .join(by_customer.select("case_key", "t_customer"), on="case_key")
           .join(conversion.select("case_key", "t_conv"), on="case_key")
           .with_columns(
               bucket=pl.when(wait.is_null() | (wait > WINDOW)).then(pl.lit(LABELS[3]))
               .when(minutes <= lo).then(pl.lit(LABELS[0]))
               .when(minutes <= hi).then(pl.lit(LABELS[1]))
               .otherwise(pl.lit(LABELS[2])),
               won=(pl.col("t_conv") - pl.col("t0") <= WINDOW).fill_null(False))
           .group_by("bucket").agg(cases=pl.len(), conversions=pl.col("won").sum()))
    return _answer(out.to_pandas())


@register("latency", "chdb", requires=("chdb",),
          semantics="ClickHouse SQL over the Parquet file: argMin per case, a join for "
                    "follow-ups by case, ASOF joins for follow-ups by customer and purchases; "
                    "same rules")
def chdb_latency(ds: Dataset) -> pd.DataFrame:
    source = f"file({parquet_literal(ds)}, Parquet)"
    window_us = int(WINDOW.total_seconds() * 1_000_000)
    lo, hi = (m * 60_000_000 for m in EDGES_MIN)
    never = "toInt64(9000000000000000000)"
    return _answer(chdb_query(f"""
        WITH
        ev AS (SELECT event_id, customer_id, ts, event, case_id FROM {source}
               WHERE event IN ('{CASE}', '{FOLLOWUP}', '{OUTCOME}')),
        cases AS (
            SELECT ifNull(case_id, concat('event:', toString(event_id))) AS case_key,
                   argMin(case_id, (ts, event_id)) AS case_ref,
                   argMin(customer_id, (ts, event_id)) AS customer_id, min(ts) AS t0
            FROM ev WHERE event = '{CASE}' GROUP BY case_key),
        by_case AS (
            SELECT c.case_key AS case_key, min(f.ts) AS t_case
            FROM ev f INNER JOIN cases c ON f.case_id = c.case_ref
            WHERE f.event = '{FOLLOWUP}' AND f.ts >= c.t0 GROUP BY c.case_key),
        by_customer AS (
            SELECT c.case_key AS case_key, f.ts AS t_customer
            FROM cases c ASOF INNER JOIN (
                SELECT customer_id, ts FROM ev
                WHERE event = '{FOLLOWUP}' AND case_id IS NULL) f
            ON f.customer_id = c.customer_id AND f.ts >= c.t0),
        conv AS (
            SELECT c.case_key AS case_key, v.ts AS t_conv
            FROM cases c ASOF INNER JOIN (
                SELECT customer_id, ts FROM ev WHERE event = '{OUTCOME}') v
            ON v.customer_id = c.customer_id AND v.ts >= c.t0),
        per_case AS (
            SELECT c.case_key,
                   least(ifNull(dateDiff('microsecond', c.t0, b.t_case), {never}),
                         ifNull(dateDiff('microsecond', c.t0, u.t_customer), {never}))
                       AS wait_us,
                   ifNull(dateDiff('microsecond', c.t0, v.t_conv) <= {window_us}, 0) AS won
            FROM cases c
            LEFT JOIN by_case b ON b.case_key = c.case_key
            LEFT JOIN by_customer u ON u.case_key = c.case_key
            LEFT JOIN conv v ON v.case_key = c.case_key
            SETTINGS join_use_nulls = 1)
        SELECT multiIf(wait_us > {window_us}, '{LABELS[3]}', wait_us <= {lo}, '{LABELS[0]}',
                       wait_us <= {hi}, '{LABELS[1]}', '{LABELS[2]}') AS bucket,
               count() AS cases, sum(won) AS conversions
        FROM per_case GROUP BY bucket
    """))
