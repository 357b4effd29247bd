"""The nugget chart: money at stake per year for each ranked nugget, with its interval. A pure
function of the report's DataFrame (it never queries)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from cjlib.charts.theme import palette

LABEL_CHARS = 70


def nuggets_chart(df: pd.DataFrame, currency: str = "GBP") -> alt.LayerChart | alt.Chart:
    """Horizontal bars of `money` (per year) with `money_low`-`money_high` rules, one per nugget
    in rank order; nuggets without money are listed at zero with a note in the tooltip."""
    colours = palette()
    data = df.copy()
    if data.empty:
        return alt.Chart(pd.DataFrame({"text": ["No nugget cleared the evidence bar."]})).mark_text(
            align="left", fontSize=14).encode(text="text:N").properties(height=40)
    data["label"] = [f"{int(r)}. {_short(h)}" for r, h in zip(data["rank"], data["headline"],
                                                             strict=True)]
    data["has_money"] = data["money"].notna()
    for col in ("money", "money_low", "money_high"):
        data[col] = pd.to_numeric(data[col], errors="coerce")
    data["money_shown"] = data["money"].fillna(0.0)
    order = list(data["label"])
    title = f"Money at stake per year ({currency})"
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=520))
    tooltip = [alt.Tooltip("headline:N"), alt.Tooltip("money:Q", format=",.0f"),
               alt.Tooltip("money_low:Q", format=",.0f"),
               alt.Tooltip("money_high:Q", format=",.0f"), alt.Tooltip("call:N")]
    bars = alt.Chart(data).mark_bar(color=colours[0]).encode(
        x=alt.X("money_shown:Q", title=title, axis=alt.Axis(format="~s")),
        y=y, opacity=alt.condition("datum.has_money", alt.value(1.0), alt.value(0.3)),
        tooltip=tooltip,
    )
    rules = alt.Chart(data[data["money_low"].notna()]).mark_rule(
        color=colours[2], strokeWidth=2).encode(x="money_low:Q", x2="money_high:Q", y=y)
    return (bars + rules).properties(height=max(60, 28 * len(data)),
                                     title="Nuggets ranked by money at stake")


def _short(text: str) -> str:
    first = str(text).split(". ")[0]
    return first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"
