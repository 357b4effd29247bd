"""The one result type every analysis returns (DESIGN section 6)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Result:
    """An analysis answer: the data, the SQL behind it, its inputs and a one-line headline.

    `chart()` draws `df` with the analysis' chart function; the chart never queries.
    `tables` holds any secondary frames (e.g. the per-bucket table behind a headline ratio).
    """

    name: str
    df: pd.DataFrame
    sql: str
    params: dict[str, Any]
    headline: str
    chart_fn: Callable[[Result], Any] | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def chart(self) -> Any:
        """An altair chart of this result."""
        if self.chart_fn is None:
            raise ValueError(f"{self.name} has no chart")
        return self.chart_fn(self)

    def __repr__(self) -> str:
        return f"<{self.name}: {self.headline}>\n{self.df.head(20).to_string()}"

    def _repr_html_(self) -> str:
        table = self.df.head(50).to_html(index=False, float_format=lambda v: f"{v:,.4g}")
        sql = html.escape(self.sql.strip())
        return (
            f"<div class='cj-result'><p><b>{html.escape(self.headline)}</b></p>{table}"
            f"<details><summary>SQL</summary><pre>{sql}</pre></details></div>"
        )
