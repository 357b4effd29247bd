"""Shared pieces of the conversion analyses: step filters, windows, properties, money words.

A *step* is an event name (``"quote"``) or a filter dict (``{"event": "quote", "channel": "web"}``,
``{"event": "email_clicked", "attrs.campaign": "Spring"}``); values may be a scalar or a list
(any of). A *property* (breakdowns, strata) is an events column (read on the event that opens the
attempt or case), ``"customer.<column>"`` (a customers column), or ``"attrs.<key>"``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cjlib.errors import CjError

# Text columns of `events` a step filter may test (values compared as text).
FILTER_COLUMNS = ("channel", "source", "case_id", "outcome", "kind", "feed", "phase")
EVENT_COLUMNS = (
    "event", "channel", "source", "case_id", "outcome", "kind", "feed", "phase", "value", "cost",
    "duration_s", "score",
)
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹"}
_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ArgumentError(CjError, ValueError):
    """An analysis was asked something it cannot answer as given (names the argument)."""


def _input_error(message: str) -> ArgumentError:
    return ArgumentError(message)


def parse_window(window: str | timedelta | float | int, what: str = "window") -> timedelta:
    """'30d', '12h', '45min', '90s', '2w', a timedelta, or a number of days -> timedelta.

    Windows are exact durations on UTC timestamps ('30d' = 720 hours, whatever the DST)."""
    if isinstance(window, timedelta):
        value = window
    elif isinstance(window, int | float) and not isinstance(window, bool):
        value = timedelta(days=float(window))
    elif isinstance(window, str) and (m := _WINDOW.match(window)):
        value = timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()])
    else:
        raise _input_error(
            f"{what}={window!r}: expected a duration such as '30d', '12h', '45min' or a timedelta"
        )
    if value.total_seconds() < 0:
        raise _input_error(f"{what}={window!r} must not be negative")
    return value


def micros(delta: timedelta) -> int:
    """A timedelta in whole microseconds (how the SQL compares durations, exactly)."""
    return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Step:
    """One funnel step: an event name and equality filters (column or attrs path -> values)."""

    label: str
    event: str
    conds: tuple[tuple[str, str | None, tuple[str, ...]], ...]  # (column, json path, values)

    def as_param(self, number: int) -> dict[str, Any]:
        return {
            "step": number, "event": self.event,
            "conds": [{"col": c, "path": p, "vals": list(v)} for c, p, v in self.conds],
        }


def parse_step(step: str | dict[str, Any], what: str = "step") -> Step:
    """An event name or a filter dict -> Step (see the module docstring)."""
    if isinstance(step, str):
        if not step:
            raise _input_error(f"{what}: an empty event name")
        return Step(step, step, ())
    if not isinstance(step, dict) or not isinstance(step.get("event"), str):
        raise _input_error(
            f"{what}={step!r}: expected an event name or a dict with an 'event' key"
        )
    conds: list[tuple[str, str | None, tuple[str, ...]]] = []
    label = step.get("label") or step.get("name")
    for key, raw in step.items():
        if key in ("event", "label", "name"):
            continue
        if key == "attrs" and isinstance(raw, dict):
            items = [(f"attrs.{k}", v) for k, v in raw.items()]
        else:
            items = [(key, raw)]
        for col, val in items:
            vals = tuple(str(v) for v in (val if isinstance(val, list | tuple | set) else [val]))
            if any(v == "None" for v in vals):
                raise _input_error(f"{what}: filter {col}=None is not supported")
            if col.startswith("attrs."):
                conds.append(("attrs", json_path(col[6:]), vals))
            elif col in FILTER_COLUMNS:
                conds.append((col, None, vals))
            else:
                raise _input_error(
                    f"{what}: cannot filter on {col!r}; use one of {', '.join(FILTER_COLUMNS)} "
                    "or 'attrs.<key>'"
                )
    if not label:
        extra = ", ".join(f"{c if c != 'attrs' else p[2:]}={'|'.join(v)}" for c, p, v in conds)
        label = f"{step['event']} ({extra})" if extra else step["event"]
    return Step(str(label), step["event"], tuple(conds))


def parse_steps(steps: list[Any], what: str = "steps") -> list[Step]:
    if not isinstance(steps, list | tuple) or not steps:
        raise _input_error(f"{what}: give a non-empty list of steps")
    parsed = [parse_step(s, f"{what}[{i}]") for i, s in enumerate(steps)]
    labels = [s.label for s in parsed]
    for i, label in enumerate(labels):  # repeated steps get a position suffix
        if labels.count(label) > 1:
            parsed[i] = Step(f"{label} #{labels[: i + 1].count(label)}", parsed[i].event,
                             parsed[i].conds)
    return parsed


def steps_json(steps: list[Step]) -> str:
    """Step definitions as the JSON the SQL reads with from_json (typed, empty lists fine)."""
    return json.dumps([s.as_param(i + 1) for i, s in enumerate(steps)])


def json_path(key: str) -> str:
    """A JSON path for an attrs key ('a.b' -> '$."a"."b"')."""
    return "$." + ".".join(json.dumps(part) for part in key.split("."))


@dataclass(frozen=True)
class Property:
    """Where a breakdown / stratum value comes from."""

    name: str
    kind: str  # 'none' | 'event' | 'attr' | 'customer'
    column: str  # events column (kind 'event'), customers column (kind 'customer')
    path: str | None = None  # JSON path (kind 'attr')


def parse_property(name: str | None, customer_columns: list[str]) -> Property:
    """'source' -> events column (falling back to the customers column of that name when the
    events table lacks it), 'customer.segment' -> customers column, 'attrs.arm' -> attrs key."""
    if name is None:
        return Property("", "none", "event")
    if name.startswith("attrs."):
        return Property(name, "attr", "event", json_path(name[6:]))
    if name.startswith("customer."):
        col = name[9:]
        if col not in customer_columns:
            raise _input_error(f"by={name!r}: customers has no column {col!r}")
        return Property(name, "customer", col)
    if name in EVENT_COLUMNS:
        return Property(name, "event", name)
    if name in customer_columns:
        return Property(name, "customer", name)
    raise _input_error(
        f"{name!r} is neither an events column ({', '.join(EVENT_COLUMNS)}), a customers column "
        f"({', '.join(customer_columns)}), nor 'attrs.<key>'"
    )


def customer_columns(journey: Any) -> list[str]:
    """Column names of the journey's customers relation."""
    return list(journey.query("SELECT * FROM customers LIMIT 0").columns)


def money(amount: float | None, currency: str, digits: int = 0) -> str:
    """'£12,345' (symbol when known, else the ISO code)."""
    if amount is None or not math.isfinite(amount):
        return "n/a"
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    body = f"{abs(amount):,.{digits}f}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.{digits}f}%"


def duration_words(seconds: float | None) -> str:
    """A short human duration: '45 s', '12 min', '3.5 h', '4.2 days'."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def utc_naive(value: str | date | datetime | None) -> datetime | None:
    """A date-range bound as the naive UTC timestamp the events table holds (None stays None)."""
    if value is None:
        return None
    import pandas as pd

    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()
