"""The one registered altair theme, coloured per client (client.yml `branding`)."""

from __future__ import annotations

from typing import Any

import altair as alt

FONT = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif"
NEUTRAL = ["#4c5a67", "#8fa3b5", "#c9d3dc", "#2f855a", "#b7791f", "#c53030", "#6b46c1"]


def theme_config(primary: str = "#1f3a5f", accent: str = "#e07a1f") -> dict[str, Any]:
    """Vega-Lite config: readable on a projector, client colours first."""
    palette = [primary, accent, *NEUTRAL]
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 520, "continuousHeight": 300},
            "title": {"fontSize": 18, "anchor": "start", "color": "#1a202c", "fontWeight": 600},
            "axis": {
                "labelFontSize": 13,
                "titleFontSize": 14,
                "gridColor": "#e2e8f0",
                "domainColor": "#a0aec0",
                "tickColor": "#a0aec0",
                "titleColor": "#2d3748",
            },
            "legend": {"labelFontSize": 13, "titleFontSize": 14},
            "header": {"labelFontSize": 13, "titleFontSize": 14},
            "range": {"category": palette},
            "mark": {"color": primary},
            "bar": {"color": primary},
            "line": {"color": primary, "strokeWidth": 2.5},
            "point": {"color": primary, "size": 60},
            "rule": {"color": "#4a5568"},
            "text": {"fontSize": 13, "color": "#2d3748"},
        }
    }


def use_theme(primary: str = "#1f3a5f", accent: str = "#e07a1f") -> str:
    """Register and enable the cjkit theme in the client's colours; returns its name."""
    name = "cjkit"

    @alt.theme.register(name, enable=True)
    def _cjkit() -> alt.theme.ThemeConfig:
        return theme_config(primary, accent)  # type: ignore[return-value]

    return name


def palette(primary: str = "#1f3a5f", accent: str = "#e07a1f") -> list[str]:
    return [primary, accent, *NEUTRAL]
