"""Charts at presentation size: the dashboard gives every plain chart the same width.

Chart functions leave the width to the theme, whose default band for a category is 20 px: fine in
a notebook, cramped on a projector (a two-step funnel is 40 px wide, its labels collide). A chart
(or layer) whose width nobody set is drawn `WIDTH` px wide here; its categories share that width.
Charts that set their own width, and concatenated or faceted charts, are left as they are.
"""

from __future__ import annotations

from typing import Any

WIDTH = 560


def _unset(value: Any) -> bool:
    from altair.utils.schemapi import Undefined

    return value is Undefined


def presentable(chart: Any, width: int = WIDTH) -> Any:
    """`chart` with `width` when it is a plain or layered chart with no width of its own."""
    import altair as alt

    if isinstance(chart, alt.Chart):
        return chart.properties(width=width) if _unset(chart.width) else chart
    if isinstance(chart, alt.LayerChart):
        layers = list(chart.layer) if not _unset(chart.layer) else []
        if _unset(chart.width) and all(_unset(getattr(layer, "width", None)) or
                                       getattr(layer, "width", None) is None
                                       for layer in layers):
            return chart.properties(width=width)
    return chart
