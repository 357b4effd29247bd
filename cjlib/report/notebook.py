"""What a thin notebook calls: open a client in its colours, and show results in plain words.

    from cjlib import report
    j = report.open_client(client, start=start, end=end, static_charts=static_charts)
    report.show(j.funnel(steps))

Batch runs pass `static_charts=True`: charts are then rendered to inline SVG (vl-convert) so the
HTML pages need neither JavaScript nor the network. Interactively, charts use altair's offline
Jupyter renderer (no CDN either).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

from cjlib.charts.theme import use_theme
from cjlib.report.nuggets import NUGGETS_MIME, money_text, nugget_rows
from cjlib.report.tables import table_html

if TYPE_CHECKING:
    from cjlib.journey import Journey

DEFAULT_PRIMARY = "#1f3a5f"
DEFAULT_ACCENT = "#e07a1f"

_STATE: dict[str, Any] = {"static": False, "currency": "GBP"}


def enable_renderer(static: bool) -> str:
    """Static: inline SVG through vl-convert. Interactive: the offline Jupyter renderer when
    anywidget is available, else altair's default. Returns the renderer's name."""
    if static:
        alt.renderers.enable("svg")
        return "svg"
    try:
        alt.renderers.enable("jupyter", offline=True)
        return "jupyter"
    except Exception:  # anywidget or vl-convert missing: fall back, never fail a notebook
        alt.renderers.enable("default")
        return "default"


def open_client(
    client: Any,
    start: Any = None,
    end: Any = None,
    *,
    static_charts: bool = False,
) -> Journey:
    """Open a client (workspace name or path, or an existing Journey), restrict it to customers
    first seen in [start, end), and set the chart theme to the client's colours."""
    import cjlib
    from cjlib.journey import Journey

    journey = client if isinstance(client, Journey) else cjlib.open(str(client))
    if start is not None or end is not None:
        journey = journey.where(start=start, end=end)
    branding = journey.settings.branding or {}
    use_theme(branding.get("primary") or DEFAULT_PRIMARY, branding.get("accent") or DEFAULT_ACCENT)
    enable_renderer(static_charts)
    _STATE.update(static=bool(static_charts), currency=journey.settings.currency)
    return journey


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def show(
    result: Any,
    *,
    chart: bool = True,
    table: bool | str = True,
    rows: int = 10,
    columns: list[str] | None = None,
) -> None:
    """Show a Result as its headline, its chart and a short table (`table` may name one of
    `result.tables`). Interactively the SQL behind it follows, folded."""
    if isinstance(result, pd.DataFrame):
        _display(_html(table_html(result, rows, columns)))
        return
    headline = getattr(result, "headline", None)
    if headline:
        _display(_html(f"<p class='cj-headline'>{html.escape(str(headline))}</p>"))
    if chart and getattr(result, "chart_fn", None) is not None:
        _display(result.chart())
    if table:
        frame = result.df if table is True else result.tables[table]
        _display(_html(table_html(frame, rows, columns)))
    if not _STATE["static"]:
        show_sql(result)


def show_sql(result: Any) -> None:
    """The SQL behind a result, folded (interactive use only; client reports leave it out)."""
    sql = getattr(result, "sql", None)
    if sql and not _STATE["static"]:
        _display(_html(
            f"<details class='cj-sql'><summary>SQL</summary><pre>{html.escape(sql.strip())}"
            "</pre></details>"
        ))


def show_nuggets(found: Any, *, top: int = 10, chart: bool = True) -> None:
    """The ranked findings as a numbered list: headline and money at stake, after their chart
    when they have one. The rows are also attached to the output as JSON (NUGGETS_MIME) for the
    batch index and the run-to-run diff."""
    from IPython.display import display

    rows = nugget_rows(found, top)
    currency = _STATE["currency"]
    if chart and rows and callable(getattr(found, "chart", None)):
        try:
            display(found.chart())
        except ImportError as exc:  # the chart module not there yet: the list still shows
            import warnings

            warnings.warn(f"findings chart unavailable: {exc}", stacklevel=2)
    if rows:
        items = []
        for row in rows:
            money = (f" <span class='cj-money'>{html.escape(money_text(row['money'], currency))}"
                     " at stake</span>" if row["money"] is not None else "")
            items.append(f"<li>{html.escape(row['headline'])}{money}</li>")
        text = f"<ol class='cj-nuggets'>{''.join(items)}</ol>"
    else:
        text = "<p class='cj-headline'>No finding cleared its evidence bar.</p>"
    display({"text/html": text, NUGGETS_MIME: {"currency": currency, "nuggets": rows}}, raw=True)
