"""The data-only twin of the filter bar: what is selected, and what can be selected.

`FilterState` is a plain value (no widgets): the dashboard turns widget values into one, and every
section is a function of (journey, FilterState). `Choices` lists what the filters can offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cjlib.db import load_sql

if TYPE_CHECKING:
    from cjlib.journey import Journey

SQL_PACKAGE = "cjlib.widgets.sql"
# The funnel shown by default (the batch reports' `sales_steps`), when the client has these events.
DEFAULT_STEPS = ("quote_start", "quote", "purchase")
BUCKET_MINUTES = (5, 10, 15, 20, 30, 60)
DEFAULT_BUCKET = 20


@dataclass(frozen=True)
class FilterState:
    """One selection of the dashboard's filters (None / empty = everything).

    Dates are days: customers first seen on or after `start` and before the day after `end`
    (both inclusive, as a person reads a date range)."""

    start: date | None = None
    end: date | None = None
    segment: str | None = None
    channel: str | None = None
    source: str | None = None
    steps: tuple[str, ...] = ()
    bucket_minutes: int = DEFAULT_BUCKET
    case_event: str = "quote"
    conversion_event: str = "purchase"

    def where_kwargs(self) -> dict[str, Any]:
        """Arguments for `Journey.where` (only the filters that are set)."""
        kwargs: dict[str, Any] = {}
        if self.start is not None:
            kwargs["start"] = datetime(self.start.year, self.start.month, self.start.day)
        if self.end is not None:
            after = self.end + timedelta(days=1)
            kwargs["end"] = datetime(after.year, after.month, after.day)
        for name in ("segment", "channel", "source"):
            value = getattr(self, name)
            if value:
                kwargs[name] = [value]
        return kwargs

    def apply(self, journey: Journey) -> Journey:
        """The journey restricted to this selection (the journey itself when nothing is set)."""
        kwargs = self.where_kwargs()
        return journey.where(**kwargs) if kwargs else journey

    def with_(self, **changes: Any) -> FilterState:
        return replace(self, **changes)

    def describe(self) -> str:
        """The selection in words, e.g. 'first seen 1 Jan 2025 – 31 Mar 2025 · segment family'."""
        parts = []
        if self.start or self.end:
            first = _day(self.start) if self.start else "the start"
            last = _day(self.end) if self.end else "today"
            parts.append(f"first seen {first} – {last}")
        for name in ("segment", "channel", "source"):
            value = getattr(self, name)
            if value:
                label = "lead source" if name == "source" else name
                parts.append(f"{label} {pretty(value)}")
        return " · ".join(parts) or "all customers"


@dataclass(frozen=True)
class Choices:
    """What the filters can offer for one client (from the unfiltered data)."""

    first_day: date | None = None
    last_day: date | None = None
    segment: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def default_steps(self) -> tuple[str, ...]:
        """The usual journey steps this client has, else its three most frequent events."""
        steps = tuple(e for e in DEFAULT_STEPS if e in self.events)
        return steps if len(steps) >= 2 else self.events[:3]


def choices(journey: Journey) -> Choices:
    """Read the filter choices and the first-seen span from the journey's data."""
    frame = journey.query(load_sql(SQL_PACKAGE, "choices"))
    period = journey.query(load_sql(SQL_PACKAGE, "period"))
    grouped: dict[str, dict[str, int]] = {}
    for dimension, value, n in frame.itertuples(index=False):
        grouped.setdefault(str(dimension), {})[str(value)] = int(n)
    first, last = (period.iloc[0].tolist() if len(period) else (None, None))
    return Choices(
        first_day=_as_day(first),
        last_day=_as_day(last),
        segment=tuple(grouped.get("segment", {})),
        channel=tuple(grouped.get("channel", {})),
        source=tuple(grouped.get("source", {})),
        events=tuple(grouped.get("event", {})),
        counts=grouped,
    )


def pretty(value: str) -> str:
    """'comparison_site' -> 'Comparison site' (labels as a client reads them)."""
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _as_day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
