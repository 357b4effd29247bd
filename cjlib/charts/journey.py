"""Charts for the journey analyses (paths, process, touchpoints, retention, lifecycle, phases).

Each function takes the analysis' Result and returns an altair chart built from its frames
only (charts never query). Colours come from the registered theme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cjlib.result import Result

PCT = ".1%"


def _rate_bars(df: pd.DataFrame, label: str, title: str, n: str = "customers",
               rate: str = "rate", low: str = "low", high: str = "high",
               sort: list[str] | None = None) -> alt.LayerChart:
    """Horizontal bars of a rate with Wilson interval whiskers, one bar per `label`."""
    base = alt.Chart(df).encode(
        y=alt.Y(f"{label}:N", sort=sort if sort is not None else None, title=None))
    bars = base.mark_bar().encode(
        x=alt.X(f"{rate}:Q", axis=alt.Axis(format="%"), title="conversion"),
        tooltip=[f"{label}:N", f"{n}:Q", alt.Tooltip(f"{rate}:Q", format=PCT),
                 alt.Tooltip(f"{low}:Q", format=PCT), alt.Tooltip(f"{high}:Q", format=PCT)])
    whiskers = base.mark_rule().encode(x=f"{low}:Q", x2=f"{high}:Q")
    return (bars + whiskers).properties(title=title)


# ---------------------------------------------------------------------------- paths


def transitions_chart(result: Result, max_states: int = 25) -> alt.Chart:
    """Heatmap of the transition matrix (the `max_states` busiest states): row-normalised
    probability, counts in the tooltip."""
    df = result.df
    volume = df.groupby("from_state").n.sum().add(df.groupby("to_state").n.sum(), fill_value=0)
    keep = set(volume.sort_values(ascending=False).index[:max_states])
    df = df[df.from_state.isin(keep) & df.to_state.isin(keep)]
    return alt.Chart(df).mark_rect().encode(
        x=alt.X("to_state:N", title="to"),
        y=alt.Y("from_state:N", title="from"),
        color=alt.Color("p:Q", title="P(next)", scale=alt.Scale(scheme="blues")),
        tooltip=["from_state:N", "to_state:N", "n:Q", alt.Tooltip("p:Q", format=PCT)],
    ).properties(title=f"Transitions between {result.params.get('level', 'states')}s")


def variants_chart(result: Result) -> alt.LayerChart:
    """Top paths: conversion rate with Wilson intervals, bars in order of frequency."""
    df = result.df[result.df.customers > 0]
    return _rate_bars(df, "path", "Conversion by path", sort=list(df.path))


def after_chart(result: Result) -> alt.Chart:
    """Step chart: share of drop-outs doing each state at next positions 1, 2, ..."""
    df = result.tables["steps"]
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("position:O", title="next step"),
        y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title="drop-outs"),
        color=alt.Color("state:N", title=None),
        tooltip=["position:O", "state:N", "customers:Q", alt.Tooltip("share:Q", format=PCT)],
    ).properties(title=f"What customers do after {result.params['after']}")


def switch_chart(result: Result) -> alt.LayerChart:
    """Conversion of switchers vs non-switchers with Wilson intervals."""
    return _rate_bars(result.df, "group", "Conversion by channel switch")


# ---------------------------------------------------------------------------- process


def process_chart(result: Result) -> alt.LayerChart:
    """Directly-follows pairs: median time between steps (bar) and p90 (tick), by pair."""
    df = result.df.assign(pair=lambda d: d.from_step + " → " + d.to_step,
                          median_h=lambda d: d.median_s / 3600, p90_h=lambda d: d.p90_s / 3600)
    order = list(df.sort_values("median_h", ascending=False).pair)
    base = alt.Chart(df).encode(y=alt.Y("pair:N", sort=order, title=None))
    bars = base.mark_bar().encode(
        x=alt.X("median_h:Q", title="hours between steps (median; tick = p90)"),
        tooltip=["pair:N", "n:Q", alt.Tooltip("median_h:Q", format=".1f"),
                 alt.Tooltip("p90_h:Q", format=".1f")])
    ticks = base.mark_tick(thickness=2, size=14).encode(x="p90_h:Q")
    return (bars + ticks).properties(title="Time between process steps")


def failure_chart(result: Result) -> alt.LayerChart:
    """Failure rate per attempt / first attempt / unit with Wilson intervals."""
    df = result.df
    base = alt.Chart(df).encode(y=alt.Y("level:N", sort=list(df.level), title=None))
    bars = base.mark_bar().encode(
        x=alt.X("failure_rate:Q", axis=alt.Axis(format="%"), title="failure rate"),
        tooltip=["level:N", "n:Q", "failed:Q", alt.Tooltip("failure_rate:Q", format=PCT)])
    whiskers = base.mark_rule().encode(x="low:Q", x2="high:Q")
    p = result.params
    return (bars + whiskers).properties(title=f"{p['started']} without {p['completed']}")


def dose_chart(result: Result) -> alt.LayerChart:
    """Outcome rate per duration bin (points, Wilson whiskers) and the fitted logistic curve."""
    df, p = result.df, result.params
    base = alt.Chart(df).encode(x=alt.X("mean_duration:Q", title=f"duration ({p['unit']})"))
    points = base.mark_point(filled=True).encode(
        y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title=f"{p['outcome']} rate"),
        tooltip=["duration:N", "cases:Q", "outcomes:Q", alt.Tooltip("rate:Q", format=PCT)])
    whiskers = base.mark_rule().encode(y="low:Q", y2="high:Q")
    layers = points + whiskers
    if len(df) and np.isfinite(p.get("logit_b", np.nan)):
        xs = np.linspace(0, float(df.mean_duration.max()), 50)
        curve = pd.DataFrame({"mean_duration": xs, "fit": 1 / (1 + np.exp(
            -(p["logit_a"] + p["logit_b"] * xs)))})
        layers = layers + alt.Chart(curve).mark_line(strokeDash=[4, 3]).encode(
            x="mean_duration:Q", y="fit:Q")
    return layers.properties(title=f"{p['outcome']} by {p['start']} → {p['end']} duration")


# ---------------------------------------------------------------------------- touchpoints


def touchpoints_chart(result: Result) -> alt.LayerChart:
    """Volume (x, log) against mean survey score (y, with interval); size = mean duration;
    labelled with the pain rank. Pain points sit bottom right."""
    df = result.df[result.df.mean_score.notna() & (result.df.volume > 0)].copy()
    df["label"] = [("" if pd.isna(r) else f"#{int(r)} ") + str(tp)
                   for r, tp in zip(df.pain_rank, df.touchpoint, strict=True)]
    base = alt.Chart(df).encode(
        x=alt.X("volume:Q", scale=alt.Scale(type="log"), title="volume (contacts)"),
        y=alt.Y("mean_score:Q", title="mean survey score"))
    points = base.mark_circle(opacity=0.8).encode(
        size=alt.Size("mean_duration_min:Q", title="mean minutes"),
        tooltip=["touchpoint:N", "volume:Q", "surveys:Q", alt.Tooltip("mean_score:Q", format=".2f"),
                 alt.Tooltip("mean_duration_min:Q", format=".1f"),
                 alt.Tooltip("pain_score:Q", format=",.0f"), "pain_rank:Q"])
    whiskers = base.mark_rule().encode(y="score_low:Q", y2="score_high:Q")
    labels = base.mark_text(align="left", dx=8).encode(text="label:N")
    return (whiskers + points + labels).properties(title="Touchpoints: volume vs satisfaction")


# ---------------------------------------------------------------------------- retention


def retention_chart(result: Result, max_cohorts: int = 36) -> alt.LayerChart:
    """Cohort x period heatmap of the retention rate (the latest `max_cohorts` cohorts);
    incomplete periods are drawn as empty grey cells marked '…' (never as a drop)."""
    keep = sorted(result.df.cohort.unique())[-max_cohorts:]
    df = result.df[result.df.cohort.isin(keep)][
        ["cohort", "period", "cohort_size", "retained", "eligible", "complete", "rate",
         "rate_so_far"]].copy()
    df["cohort_label"] = pd.to_datetime(df.cohort).dt.strftime("%Y-%m-%d")
    df["label"] = df.rate.map(lambda r: "" if pd.isna(r) else f"{100 * r:.0f}")
    df.loc[~df.complete & (df.period > 0), "label"] = "…"
    base = alt.Chart(df).encode(
        x=alt.X("period:O", title=f"{result.params['period']}s since start"),
        y=alt.Y("cohort_label:O", title="cohort"))
    done = base.transform_filter("datum.complete || datum.period == 0").mark_rect().encode(
        color=alt.Color("rate:Q", title="retained", scale=alt.Scale(scheme="blues",
                                                                   domain=[0, 1]),
                        legend=alt.Legend(format="%")),
        tooltip=["cohort_label:N", "period:O", "cohort_size:Q", "retained:Q",
                 alt.Tooltip("rate:Q", format=PCT)])
    pending = base.transform_filter("!datum.complete && datum.period > 0").mark_rect(
        color="#edf2f7").encode(tooltip=["cohort_label:N", "period:O", "eligible:Q",
                                         alt.Tooltip("rate_so_far:Q", format=PCT)])
    text = base.mark_text(fontSize=10).encode(text="label:N")
    return (done + pending + text).properties(title="Retention by cohort")


def lifecycle_chart(result: Result) -> alt.Chart:
    """Stacked bars per period: new, returning, resurrecting up; dormant down (negative)."""
    df = result.df.copy()
    df["signed"] = np.where(df.state == "dormant", -df.customers, df.customers)
    df["period"] = pd.to_datetime(df.period_start).dt.strftime("%Y-%m-%d")
    order = ["new", "returning", "resurrecting", "dormant"]
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("period:O", title=None),
        y=alt.Y("signed:Q", title="customers"),
        color=alt.Color("state:N", sort=order, title=None),
        opacity=alt.condition("datum.complete", alt.value(1.0), alt.value(0.4)),
        tooltip=["period:O", "state:N", "customers:Q", "complete:N"],
    ).properties(title=f"Lifecycle per {result.params['period']}")


def phases_chart(result: Result) -> alt.HConcatChart:
    """Phase transition heatmap next to the median dwell time per phase (days)."""
    trans = result.tables["transitions"]
    order = list(result.params["order"])
    heat = alt.Chart(trans).mark_rect().encode(
        x=alt.X("to_state:N", sort=order, title="to"),
        y=alt.Y("from_state:N", sort=order, title="from"),
        color=alt.Color("p:Q", scale=alt.Scale(scheme="blues"), title="P(next)"),
        tooltip=["from_state:N", "to_state:N", "n:Q", alt.Tooltip("p:Q", format=PCT),
                 "direction:N"],
    ).properties(title="Phase transitions")
    dwell = result.df.assign(median_days=lambda d: d.median_dwell_s / 86400)
    bars = alt.Chart(dwell).mark_bar().encode(
        y=alt.Y("phase:N", sort=order, title=None),
        x=alt.X("median_days:Q", title="median dwell (days)"),
        tooltip=["phase:N", "customers:Q", alt.Tooltip("reach:Q", format=PCT), "left_runs:Q",
                 "open_runs:Q", alt.Tooltip("median_days:Q", format=".1f")],
    ).properties(title="Dwell time")
    return alt.hconcat(heat, bars)
