"""Customer segments: RFM segments with named rules, and behavioural personas by k-means on
features computed in SQL; plus `with_segments`, which makes any segmentation a breakdown of the
other analyses (DESIGN section 5-6).

Design: a segmentation is a Result whose df maps customer_id -> segment. `with_segments(j, res)`
returns a Journey on its own cursor whose temporary `customers` table carries that assignment in
the `segment` column (the original kept as `original_segment`), so every analysis that reads
customers.segment (`by="segment"`, e.g. `clv`) breaks down by it unchanged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.sqlfiles import render
from cjlib.db import execute
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

RFM_RULES: dict[str, str] = {
    "champions": "R >= 4 and FM >= 4: bought recently, often or for a lot",
    "loyal": "R >= 3 and FM >= 3: regular buyers, fairly recent",
    "promising": "R >= 4 and FM <= 2: recent buyers, not yet frequent or big",
    "needs_attention": "R = 3 and FM <= 2: middling recency, low frequency and spend",
    "at_risk": "R <= 2 and FM >= 3: used to buy often or big, not lately",
    "hibernating": "R = 2 and FM <= 2: lapsing small buyers",
    "lost": "R = 1 and FM <= 2: longest since their last purchase, low frequency and spend",
    "prospect": "no purchase yet",
}
SELECT_MAX = 20_000  # customers in the subsample on which k is chosen
FEATURES = ("events", "active_days", "tenure_days", "recency_days", "purchases", "value")


def segments(
    journey: Journey,
    *,
    method: str = "rfm",
    purchase_event: str = "purchase",
    value: str = "value",
    end: str | date | datetime | None = None,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 6),
    max_channels: int = 8,
    random_state: int = 0,
) -> Result:
    """Segment customers.

    Args:
        method: "rfm" (quintile scores and named segments, rules in RFM_RULES and
            sql/segments_rfm.sql) or "kmeans" (personas: k-means on standardised behaviour
            features: log counts, value, recency, tenure and channel mix).
        purchase_event, value: the transaction event and its value column.
        end: end of observation (default: the last event).
        k: number of personas (kmeans); default: the best silhouette within `k_range`.
        max_channels: channels kept as separate mix features (the rest pooled as "other").

    Result: `df` maps every customer_id to a `segment` (+ its scores or features); table
    `summary` describes each segment (size, conversion, value, dominant channels, in words).
    """
    if method not in ("rfm", "kmeans", "personas"):
        raise CjError(f"segments: method must be 'rfm' or 'kmeans', not {method!r}")
    params: dict[str, Any] = {
        "purchase_event": purchase_event,
        "end": None if end is None else pd.Timestamp(end).to_pydatetime(),
    }
    sql_features = render("segments_features", value=value)
    sql_channels = render("segments_channels")
    features = journey.query(sql_features, params)
    mix = journey.query(sql_channels, params)
    extra: dict[str, Any] = {}
    if method == "rfm":
        sql_rfm = render("segments_rfm", value=value)
        df = journey.query(sql_rfm, params)
        sqls = [("segments_rfm", sql_rfm)]
    else:
        df, extra = _kmeans(features, mix, k=k, k_range=k_range, max_channels=max_channels,
                            random_state=random_state)
        sqls = []
    sqls += [("segments_features", sql_features), ("segments_channels", sql_channels)]
    summary = describe(df[["customer_id", "segment"]], features, mix, journey.currency,
                       rules=RFM_RULES if method == "rfm" else None)
    all_params = {**params, "method": method, "value": value, "currency": journey.currency,
                  **extra}
    return Result(
        name="segments",
        df=df,
        sql="\n\n".join(f"-- {name}\n{text.strip()}" for name, text in sqls),
        params=all_params,
        headline=_headline(summary, method, journey.currency),
        chart_fn=_chart,
        tables={"summary": summary},
    )


def with_segments(journey: Journey, result: Result | pd.DataFrame,
                  column: str = "segment") -> Journey:
    """A Journey whose customers carry `result`'s assignment (customer_id -> `column`) as
    `segment` (the previous segment kept as `original_segment`; customers the assignment does
    not cover get '(unassigned)'). Analyses breaking down by customers.segment then break down
    by it. Filters of `journey` are kept; call `.where()` on the original journey, not on the
    returned one (a new `where` rebuilds customers from the warehouse).
    """
    frame = result.df if isinstance(result, Result) else result
    if "customer_id" not in frame.columns or column not in frame.columns:
        raise CjError(f"with_segments: need columns customer_id and {column!r}")
    assignment = pd.DataFrame({"customer_id": frame.customer_id.astype("int64"),
                               "segment": frame[column].astype(str)})
    segmented = journey.where()  # a cursor of its own with temp customers/events
    segmented.con.register("_cj_segment_assignment", assignment)
    try:
        execute(segmented.con, render("segments_apply"))
    finally:
        segmented.con.unregister("_cj_segment_assignment")
    return segmented


def describe(assignment: pd.DataFrame, features: pd.DataFrame, mix: pd.DataFrame,
             currency: str, rules: dict[str, str] | None = None) -> pd.DataFrame:
    """Per segment: size, share, conversion, value per customer, medians of behaviour, the
    dominant channels, and a plain-words description."""
    data = assignment.merge(features, on="customer_id", how="left")
    n_all = len(data)
    conversion_all = (data.purchases > 0).mean() if n_all else np.nan
    summary = data.groupby("segment").agg(
        customers=("customer_id", "size"),
        conversion=("purchases", lambda s: (s > 0).mean()),
        purchases_per_customer=("purchases", "mean"),
        value_per_customer=("value", "mean"),
        median_events=("events", "median"),
        median_recency_days=("recency_days", "median"),
        median_tenure_days=("tenure_days", "median"),
    ).reset_index()
    summary["share"] = summary.customers / max(n_all, 1)
    channel_mix = (mix.merge(assignment, on="customer_id")
                   .groupby(["segment", "channel"]).events.sum().reset_index())
    channel_mix["channel_share"] = channel_mix.events / channel_mix.groupby(
        "segment").events.transform("sum")
    top = (channel_mix.sort_values(["segment", "channel_share"], ascending=[True, False])
           .groupby("segment").head(2))
    words = top.groupby("segment").apply(
        lambda g: " and ".join(f"{c} ({s:.0%})" for c, s in zip(g.channel, g.channel_share,
                                                                 strict=True)),
        include_groups=False)
    summary["dominant_channels"] = summary.segment.map(words).fillna("no events")
    summary["description"] = [
        _describe_row(row, conversion_all, currency, rules) for row in summary.itertuples()]
    columns = ["segment", "customers", "share", "conversion", "purchases_per_customer",
               "value_per_customer", "median_events", "median_recency_days",
               "median_tenure_days", "dominant_channels", "description"]
    return summary.sort_values("customers", ascending=False, ignore_index=True)[columns]


# ------------------------------------------------------------------------------ k-means


def _feature_matrix(features: pd.DataFrame, mix: pd.DataFrame,
                    max_channels: int) -> pd.DataFrame:
    """Per customer: log1p of counts, value, tenure and recency, and channel shares."""
    base = features.set_index("customer_id")
    recency = base.recency_days.fillna(base.recency_days.max() if base.recency_days.notna().any()
                                       else 0)
    frame = pd.DataFrame({f"log_{c}": np.log1p(base[c].clip(lower=0).astype(float))
                          for c in FEATURES if c != "recency_days"}, index=base.index)
    frame["log_recency_days"] = np.log1p(recency.clip(lower=0).astype(float))
    if len(mix):
        ranked = mix.groupby("channel").events.sum().sort_values(ascending=False)
        keep = list(ranked.index[:max_channels])
        channel = mix.channel.where(mix.channel.isin(keep), "other")
        shares = (mix.assign(channel=channel)
                  .pivot_table(index="customer_id", columns="channel", values="share",
                               aggfunc="sum", fill_value=0.0))
        shares.columns = [f"share_{c}" for c in shares.columns]
        frame = frame.join(shares, how="left").fillna(0.0)
    return frame


def _kmeans(features: pd.DataFrame, mix: pd.DataFrame, *, k: int | None,
            k_range: tuple[int, int], max_channels: int,
            random_state: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    matrix = _feature_matrix(features, mix, max_channels)
    n = len(matrix)
    if n < 3:
        raise CjError("segments: k-means needs at least 3 customers")
    x = StandardScaler().fit_transform(matrix.to_numpy(float))
    x = np.nan_to_num(x)
    silhouettes: dict[int, float] = {}
    chosen = k
    if chosen is None:
        # choose k on a fixed random subsample (silhouette on at most 2,000 of it), then fit all
        rng = np.random.default_rng(random_state)
        sample = x if n <= SELECT_MAX else x[rng.choice(n, SELECT_MAX, replace=False)]
        for kk in range(k_range[0], min(k_range[1], len(sample) - 1) + 1):
            labels = _kmeans_labels(sample, kk, random_state)
            if np.unique(labels).size < 2:
                continue
            silhouettes[kk] = float(silhouette_score(
                sample, labels, sample_size=min(len(sample), 2000), random_state=random_state))
        if not silhouettes:
            raise CjError("segments: k-means found no structure (all customers alike)")
        chosen = max(silhouettes, key=silhouettes.get)
    labels = _kmeans_labels(x, chosen, random_state)
    # number personas by size (1 = largest) and name them by channel and value
    sizes = pd.Series(labels).value_counts()
    rank = np.empty(labels.max() + 1, dtype=int)
    rank[sizes.index.to_numpy()] = np.arange(1, len(sizes) + 1)
    number = rank[labels]
    names = _persona_names(matrix, number, features)
    df = matrix.reset_index()[["customer_id"]]
    df["segment"] = pd.Series(number).map(names).to_numpy()
    df = df.merge(features, on="customer_id", how="left")
    return df, {"k": chosen, "silhouettes": silhouettes, "features": list(matrix.columns),
                "random_state": random_state}


def _kmeans_labels(x: np.ndarray, k: int, random_state: int) -> np.ndarray:
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # one BLAS/OpenMP thread: on a small shared machine more threads oversubscribe badly
    with threadpool_limits(1):
        return KMeans(n_clusters=k, n_init=5, random_state=random_state).fit_predict(x)


def _persona_names(matrix: pd.DataFrame, number: np.ndarray,
                   features: pd.DataFrame) -> dict[int, str]:
    """'persona 1: web-led, high value' — dominant channel share and value per customer vs
    the overall mean (high > 1.25x, low < 0.75x, none = no purchase)."""
    shares = matrix[[c for c in matrix.columns if c.startswith("share_")]]
    value = features.set_index("customer_id").value.reindex(matrix.index).to_numpy(float)
    overall = np.nanmean(value) if len(value) else 0.0
    names = {}
    for i in np.unique(number):
        members = number == i
        channel = (shares[members].mean().idxmax().removeprefix("share_")
                   if shares.shape[1] else "no-channel")
        mean_value = np.nanmean(value[members])
        if mean_value <= 0:
            tier = "no purchases"
        elif overall > 0 and mean_value > 1.25 * overall:
            tier = "high value"
        elif overall > 0 and mean_value < 0.75 * overall:
            tier = "low value"
        else:
            tier = "average value"
        names[int(i)] = f"persona {i}: {channel}-led, {tier}"
    return names


# ------------------------------------------------------------------------------ words


def _describe_row(row: Any, conversion_all: float, currency: str,
                  rules: dict[str, str] | None) -> str:
    rule = f" [{rules[row.segment]}]" if rules and row.segment in rules else ""
    recency = ("" if pd.isna(row.median_recency_days)
               else f", typically last seen {row.median_recency_days:,.0f} days before the end")
    return (f"{row.segment}{rule}: {row.customers:,} customers ({row.share:.0%}); "
            f"{row.conversion:.0%} purchased (overall {conversion_all:.0%}); "
            f"{currency} {row.value_per_customer:,.0f} per customer; mostly "
            f"{row.dominant_channels}; median {row.median_events:,.0f} events{recency}.")


def _headline(summary: pd.DataFrame, method: str, currency: str) -> str:
    if summary.empty:
        return "No customers to segment."
    best = summary.sort_values("value_per_customer", ascending=False).iloc[0]
    kind = "RFM segments" if method == "rfm" else "behavioural personas"
    return (f"{len(summary)} {kind}: the largest is {summary.iloc[0].segment} "
            f"({summary.iloc[0].share:.0%} of customers); {best.segment} is worth the most "
            f"per customer ({currency} {best.value_per_customer:,.0f}; {best.share:.0%} of "
            "customers).")


def _chart(result: Result) -> Any:
    """The chart of this result (altair is imported only when a chart is drawn)."""
    from cjlib.charts.value import segments_chart

    return segments_chart(result)
