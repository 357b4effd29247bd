"""Charts of value analyses (CLV, attribution, segments): pure functions of a Result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

if TYPE_CHECKING:
    from cjlib.result import Result


def clv_chart(result: Result) -> alt.TopLevelMixin:
    """Cumulative historic value per customer by cohort month, beside the expected margin per
    purchaser of each breakdown value over the horizon."""
    currency = result.params.get("currency", "")
    by = result.params.get("by", "segment")
    cohorts = result.tables.get("cohorts", pd.DataFrame())
    left = alt.Chart(cohorts[cohorts["complete"]] if len(cohorts) else cohorts).mark_line().encode(
        x=alt.X("months_since:Q", title="Months since first purchase"),
        y=alt.Y("cumulative_value_per_customer:Q", title=f"Value per customer ({currency})"),
        color=alt.Color("yearmonth(cohort):O", title="Cohort", legend=None),
        tooltip=["yearmonth(cohort):O", "months_since:Q", "customers:Q",
                 alt.Tooltip("cumulative_value_per_customer:Q", format=",.0f")],
    ).properties(title="Historic value by cohort", width=320)
    months = result.params.get("horizon_months", "")
    right = alt.Chart(result.df).mark_bar().encode(
        y=alt.Y(f"{by}:N", sort="-x", title=None),
        x=alt.X("expected_margin_per_purchaser:Q",
                title=f"Expected margin per purchaser, next {months} months ({currency})"),
        tooltip=[f"{by}:N", "purchasers:Q", alt.Tooltip("p_alive:Q", format=".0%"),
                 alt.Tooltip("expected_margin:Q", format=",.0f")],
    ).properties(title=f"Predicted value by {by}", width=320)
    return alt.hconcat(left, right)


def attribution_chart(result: Result) -> alt.Chart:
    """Conversions attributed to each touchpoint by each model, side by side."""
    by = result.params.get("by", "channel")
    return alt.Chart(result.df).mark_bar().encode(
        y=alt.Y(f"{by}:N", title=None, sort="-x"),
        x=alt.X("conversions:Q", title="Attributed conversions"),
        color=alt.Color("model:N", title="Model"),
        yOffset="model:N",
        tooltip=[f"{by}:N", "model:N", alt.Tooltip("conversions:Q", format=",.1f"),
                 alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("value:Q", format=",.0f")],
    ).properties(title=f"Conversions attributed by {by}")


def segments_chart(result: Result) -> alt.Chart:
    """Size of each segment, coloured by its value per customer."""
    summary = result.tables.get("summary", pd.DataFrame())
    currency = result.params.get("currency", "")
    return alt.Chart(summary).mark_bar().encode(
        y=alt.Y("segment:N", sort="-x", title=None),
        x=alt.X("customers:Q", title="Customers"),
        color=alt.Color("value_per_customer:Q", title=f"Value per customer ({currency})"),
        tooltip=["segment:N", "customers:Q", alt.Tooltip("conversion:Q", format=".1%"),
                 alt.Tooltip("value_per_customer:Q", format=",.0f"), "description:N"],
    ).properties(title="Segments")
