"""What a dashboard section shows, as plain data (the data-only twin of a section widget).

A section function returns a `SectionView`; the widget layer only renders it. Tests check the
views against independent computations without any browser or widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kpi:
    """One headline number: `value` is the number, `text` how it is shown."""

    key: str
    label: str
    value: float | None
    text: str
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """One ranked nugget in plain words, with the money at stake (and its interval)."""

    rank: int
    headline: str
    money: float | None = None
    money_text: str = ""
    low: float | None = None
    high: float | None = None


@dataclass
class SectionView:
    """A section's content for one filter selection.

    `empty` is a friendly sentence shown instead of the content when there is nothing to show
    (no data in the period, or the analysis is not available in this version)."""

    key: str
    headlines: list[str] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str | None = None

    @classmethod
    def nothing(cls, key: str, message: str) -> SectionView:
        return cls(key=key, empty=message)

    @property
    def is_empty(self) -> bool:
        return self.empty is not None
