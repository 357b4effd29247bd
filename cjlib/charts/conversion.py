"""Charts of the conversion analyses: pure functions of a Result (they never query).

funnel bars with step rates, the time-to-convert Kaplan-Meier curve and quantiles, the hot-spot
ranking, conversion by follow-up latency with intervals and a reference line, and test arms.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from cjlib.charts.theme import palette


def funnel_chart(result: Any) -> alt.Chart:
    """Bars of units reaching each step (stacked with the in-progress and dropped rest of those
    who entered it), labelled with the overall and step rates; one row per breakdown group."""
    df = result.df.copy()
    by = result.params.get("by")
    order = list(dict.fromkeys(df["step_name"]))
    df["label"] = [
        f"{r:.0%} overall" + (f"\n{s:.0%} of previous" if k > 1 else "")
        for r, s, k in zip(df["rate_overall"].fillna(0), df["rate_step"].fillna(0), df["step"],
                           strict=True)
    ]
    keys = [c for c in ("step", "step_name", by) if c]
    long = df.melt(id_vars=[*keys, "label", "entered"],
                   value_vars=["reached", "in_progress", "dropped"], var_name="status",
                   value_name="units")
    long["status"] = long["status"].str.replace("_", " ")
    long["status_order"] = long["status"].map({"reached": 0, "in progress": 1, "dropped": 2})
    colours = palette()
    statuses = ["reached", "in progress", "dropped"]
    base = alt.Chart(long)
    bars = base.mark_bar().encode(
        x=alt.X("step_name:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("units:Q", title=f"{result.params.get('unit', 'customer')}s"),
        color=alt.Color("status:N", sort=statuses, title=None,
                        scale=alt.Scale(domain=statuses,
                                        range=[colours[0], colours[1], "#e2e8f0"])),
        order=alt.Order("status_order:Q"),
        tooltip=[alt.Tooltip("step_name:N", title="step"), "status:N", "units:Q"],
    )
    text = base.transform_filter(alt.datum.status == "reached").mark_text(
        dy=-22, lineBreak="\n").encode(
        x=alt.X("step_name:N", sort=order), y=alt.Y("entered:Q"), text="label:N",
    )
    chart = alt.layer(bars, text).properties(width=max(360, 140 * len(order)))
    if by:
        return chart.facet(row=alt.Row(f"{by}:N", title=by)).resolve_scale(
            y="independent").properties(title="Funnel")
    return chart.properties(title="Funnel")


def time_to_convert_chart(result: Any) -> alt.VConcatChart:
    """The Kaplan-Meier share converted over time, and the quantiles of time to each step."""
    km = result.tables.get("km", pd.DataFrame())
    hours = km.assign(
        days=km["t_s"] / 86400, converted=1 - km["survival"],
        low=1 - km["survival_high"], high=1 - km["survival_low"],
    ) if len(km) else pd.DataFrame({"days": [], "converted": [], "low": [], "high": [],
                                    "grp": []})
    colour = alt.Color("grp:N", title=None) if "grp" in hours and hours["grp"].nunique() > 1 \
        else alt.value(palette()[0])
    band = alt.Chart(hours).mark_area(opacity=0.2, interpolate="step-after").encode(
        x=alt.X("days:Q", title="days since entry"), y=alt.Y("low:Q"), y2="high:Q", color=colour)
    line = alt.Chart(hours).mark_line(interpolate="step-after").encode(
        x="days:Q",
        y=alt.Y("converted:Q", title="share converted (Kaplan-Meier)",
                axis=alt.Axis(format="%")),
        color=colour,
        tooltip=[alt.Tooltip("days:Q", format=".2f"), alt.Tooltip("converted:Q", format=".1%")],
    )
    q = result.df.copy()
    q = q[q["n"] > 0]
    q = q.assign(**{c: q[c] / 86400 for c in ("p25_s", "median_s", "p75_s", "p95_s")})
    order = list(dict.fromkeys(q["step_name"]))
    whisker = alt.Chart(q).mark_rule().encode(
        y=alt.Y("step_name:N", sort=order, title=None), x=alt.X("p25_s:Q", title="days"),
        x2="p95_s:Q")
    box = alt.Chart(q).mark_bar(size=14, opacity=0.6).encode(
        y=alt.Y("step_name:N", sort=order), x="p25_s:Q", x2="p75_s:Q",
        tooltip=["step_name:N", "n:Q", alt.Tooltip("median_s:Q", title="median days",
                                                   format=".2f")])
    tick = alt.Chart(q).mark_tick(thickness=3, size=18, color=palette()[1]).encode(
        y=alt.Y("step_name:N", sort=order), x="median_s:Q")
    return alt.vconcat(
        alt.layer(band, line).properties(title="Time to convert"),
        alt.layer(whisker, box, tick).properties(
            title="Days from entry: p25-p75 box, median tick, line to p95", height=40 * len(q)),
    )


def hotspot_chart(result: Any) -> alt.Chart:
    """Money at stake per step transition, ranked, with its interval."""
    df = result.df.copy()
    df["transition"] = df["from_step"] + " -> " + df["to_step"]
    order = list(df.sort_values("money_at_stake", ascending=False)["transition"])
    cur = result.params.get("currency", "")
    base = alt.Chart(df).encode(y=alt.Y("transition:N", sort=order, title=None))
    bars = base.mark_bar().encode(
        x=alt.X("money_at_stake:Q", title=f"margin at stake ({cur})"),
        tooltip=["transition:N", "lost:Q", alt.Tooltip("share_of_lost:Q", format=".0%"),
                 alt.Tooltip("money_at_stake:Q", format=",.0f")],
    )
    rule = base.mark_rule(color=palette()[1], strokeWidth=2).encode(
        x="money_low:Q", x2="money_high:Q")
    return alt.layer(bars, rule).properties(title="Where drop-outs cost most")


def latency_chart(result: Any) -> alt.Chart:
    """Conversion by follow-up latency bucket with Wilson intervals; the dashed line is the
    baseline (no follow-up) rate."""
    df = result.df.copy()
    order = list(dict.fromkeys(df["bucket"]))
    colour = alt.Color("method:N", title="method") if df["method"].nunique() > 1 \
        else alt.value(palette()[0])
    base = alt.Chart(df).encode(x=alt.X("bucket:N", sort=order, title="first follow-up after",
                                        axis=alt.Axis(labelAngle=0)))
    points = base.mark_point(filled=True, size=90).encode(
        y=alt.Y("rate:Q", title="conversion", axis=alt.Axis(format="%")), color=colour,
        tooltip=["method:N", "bucket:N", "cases:Q", "conversions:Q",
                 alt.Tooltip("rate:Q", format=".1%"), alt.Tooltip("ratio:Q", format=".2f")])
    bars = base.mark_rule(strokeWidth=2).encode(y="rate_low:Q", y2="rate_high:Q", color=colour)
    ref = result.params.get("baseline_rate")
    layers = [bars, points]
    if ref is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [ref]})).mark_rule(
            strokeDash=[6, 4], color="#4a5568").encode(y="y:Q"))
    return alt.layer(*layers).properties(title="Conversion by follow-up latency",
                                         width=max(420, 110 * len(order)))


def followup_chart(result: Any) -> alt.Chart:
    """Conversion per test arm with Wilson intervals."""
    df = result.df.copy()
    base = alt.Chart(df).encode(x=alt.X("arm:N", title=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(opacity=0.8).encode(
        y=alt.Y("rate:Q", title="conversion", axis=alt.Axis(format="%")),
        color=alt.Color("arm:N", legend=None),
        tooltip=["arm:N", "cases:Q", "conversions:Q", alt.Tooltip("rate:Q", format=".1%"),
                 alt.Tooltip("cost_per_contact:Q", format=",.2f")])
    err = base.mark_rule(strokeWidth=2, color="#2d3748").encode(y="rate_low:Q", y2="rate_high:Q")
    return alt.layer(bars, err).properties(title="Follow-up test: conversion by arm",
                                           width=max(240, 120 * len(df)))
