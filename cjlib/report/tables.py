"""Small result tables as readable HTML: thousands separators, percentages, dates, plain headers,
numbers aligned right and text left."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

PERCENT_WORDS = ("share", "rate", "pct", "percent", "conversion", "reach")
MAX_TEXT = 140

#: Column names that read better in words than mechanically.
LABELS = {
    "source_file": "File",
    "first_ts": "First event",
    "last_ts": "Last event",
    "rows_read": "Rows read",
    "n_feeds": "Systems",
    "feed": "System",
    "linked_customers": "Customers tied to another system",
    "linked_share": "Share tied",
    "linked_by": "Tied through",
    "example_rows": "Example rows (file:row)",
    "example_raw": "Example (masked)",
    "example_value": "Example value",
    "step_name": "Step",
    "customer.source": "Lead source",
    "customer.segment": "Segment",
    "customer.region": "Region",
}


def _is_percent(column: str, series: pd.Series, previous_percent: bool) -> bool:
    """A share between 0 and 1: named like one (rate, share, conversion, ...; never a ratio), or
    an interval bound (low/high) right after one."""
    name = column.lower()
    words = set(name.replace("-", "_").split("_"))
    finite = series.replace([np.inf, -np.inf], np.nan).dropna()
    if not len(finite) or finite.min() < 0 or finite.max() > 1:
        return False
    if "ratio" in words or "lift" in words:
        return False
    if words & set(PERCENT_WORDS):
        return True
    return previous_percent and bool(words & {"low", "high", "lo", "hi", "lower", "upper"})


def header(column: Any) -> str:
    """A column name as a reader sees it."""
    if column in LABELS:
        return LABELS[column]
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _format_column(series: pd.Series, percent: bool = False) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "yes", False: "no"}).fillna("")
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.dropna()
        midnight = bool(len(values)) and bool((values == values.dt.normalize()).all())
        fmt = "%d %b %Y" if midnight else "%d %b %Y %H:%M"
        return series.dt.strftime(fmt).fillna("")
    if pd.api.types.is_integer_dtype(series):
        return series.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    if pd.api.types.is_float_dtype(series):
        if percent:
            return series.map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
        finite = series.replace([np.inf, -np.inf], np.nan).dropna()
        whole = bool(len(finite)) and bool((finite == finite.round()).all())
        big = bool(len(finite)) and finite.abs().max() >= 100
        fmt = "{:,.0f}" if whole or big else "{:,.3g}"
        return series.map(lambda v: "" if pd.isna(v) else fmt.format(v))
    return series.map(_cell)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)) \
        or pd.api.types.is_datetime64_any_dtype(series)


def format_frame(frame: pd.DataFrame, rows: int = 10,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """The first `rows` rows of `frame` (optionally only `columns`) as display strings."""
    source = frame[list(columns)] if columns else frame
    shown = source.head(rows)
    out, previous = {}, False
    for column in shown.columns:
        percent = pd.api.types.is_float_dtype(source[column]) and _is_percent(
            str(column), source[column], previous)
        label = header(column)
        if label in out:  # two columns reading alike (step, step_name): keep both, plainly
            label = str(column)
        out[label] = _format_column(shown[column], percent)
        previous = percent
    return pd.DataFrame(out)


def table_html(frame: pd.DataFrame, rows: int = 10, columns: list[str] | None = None) -> str:
    """An HTML table of the first `rows` rows, with a note when rows were left out."""
    source = frame[list(columns)] if columns else frame
    kinds = ["num" if _numeric(source[c]) else "text" for c in source.columns]
    shown = format_frame(source, rows)
    head = "".join(f"<th class='{k}'>{html.escape(str(c))}</th>"
                   for c, k in zip(shown.columns, kinds, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td class='{k}'>{html.escape(v)}</td>"
                         for v, k in zip(row, kinds, strict=True)) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    text = f"<table class='cj-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if len(frame) > rows:
        text += f"<p class='cj-more'>First {rows} of {len(frame):,} rows.</p>"
    return text
