"""What every candidate family shares: the scan state (journey, catalogue, rules, cached
funnels, value per conversion), the call strings that reproduce a finding, and plain words.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cjlib.analyses.stats import Z95
from cjlib.errors import CjError
from cjlib.nuggets.catalogue import Catalogue
from cjlib.nuggets.model import Candidate, Rules
from cjlib.result import Result

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹"}


class NotApplicable(CjError):
    """A family has nothing to scan for this client (the reason says why)."""


@dataclass
class ScanState:
    """Everything a family needs; funnels are cached so families share them."""

    journey: Any
    cat: Catalogue
    rules: Rules
    value_per_conversion: float | None = None
    outcome_values: dict[str, float] = field(default_factory=dict)
    _cache: dict[str, Result] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.journey.currency

    @property
    def margin(self) -> float:
        return self.journey.gross_margin

    def run(self, method: str, *args: Any, **kwargs: Any) -> tuple[Result, str]:
        """Call `journey.<method>(*args, **kwargs)` (cached) and the string that reproduces it."""
        text = call(method, *args, **kwargs)
        if text not in self._cache:
            self._cache[text] = getattr(self.journey, method)(*args, **kwargs)
        return self._cache[text], text

    def unit_value(self, case_event: str) -> tuple[float | None, str]:
        """Margin per conversion after `case_event` (value per conversion x gross margin), and
        where the value came from. The value is the mean value of the conversions that follow
        the case event (`j.hotspots([case_event, conversion])`); None when they carry none."""
        if self.value_per_conversion is not None:
            return self.value_per_conversion * self.margin, "value_per_conversion argument"
        return self._value("hotspots", [case_event, self.cat.conversion])

    def repeat_value(self) -> tuple[float | None, str]:
        """Margin per repeat conversion (the mean value of a customer's next conversion within
        a year, `j.hotspots([conversion, conversion], window="365d")`)."""
        if self.value_per_conversion is not None:
            return self.value_per_conversion * self.margin, "value_per_conversion argument"
        conv = self.cat.conversion
        return self._value("hotspots", [conv, conv], window="365d")

    def _value(self, method: str, *args: Any, **kwargs: Any) -> tuple[float | None, str]:
        res, text = self.run(method, *args, **kwargs)
        value = finite(res.params.get("value_per_conversion"))
        if value is None:
            return None, f"{text}: no value on {self.cat.conversion}"
        return value * self.margin, (
            f"{money(value, self.currency)} per {pretty(self.cat.conversion)} ({text}) x "
            f"gross margin {self.margin:.0%}")

    def guard(self, family: str, key: str, subject: str, text: str,
              build: Callable[[], Candidate]) -> Candidate:
        """Build one candidate; an analysis that fails leaves an untestable candidate saying why."""
        try:
            return build()
        except Exception as exc:  # one broken analysis call must not stop the scan
            return Candidate(family, key, subject, text,
                             untestable=f"analysis failed: {type(exc).__name__}: {exc}")


def call(method: str, *args: Any, **kwargs: Any) -> str:
    """`j.method(arg, key=value)` with JSON-style literals: what an analyst types."""
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return f"j.{method}({', '.join(parts)})"


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------- statistics


def p_from_interval(estimate: float, low: float, high: float, log: bool = True) -> float:
    """Two-sided Wald p-value of a 95% interval symmetric on the log (ratios) or linear scale:
    the p-value the interval itself implies."""
    from scipy.stats import norm

    values = (estimate, low, high)
    if any(v is None or not np.isfinite(v) for v in values) or (log and min(values) <= 0):
        return math.nan
    if log:
        estimate, low, high = np.log(estimate), np.log(low), np.log(high)
    se = (high - low) / (2 * Z95)
    if se <= 0:
        return math.nan
    return float(2 * norm.sf(abs(estimate) / se))


def rate_figure(k: float, n: float) -> tuple[float, float | None, float | None]:
    """A proportion k/n with its Wilson 95% interval."""
    from cjlib.analyses.stats import wilson

    if not n:
        return (math.nan, None, None)
    low, high = wilson(k, n)
    return (k / n, finite(low), finite(high))


def fold(ratio: float | None) -> float | None:
    """A ratio as a size >= 1 (0.5 and 2 are the same size)."""
    if ratio is None or not np.isfinite(ratio) or ratio <= 0:
        return None
    return float(max(ratio, 1 / ratio))


def finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def per_year(amounts: tuple[float | None, ...], years: float) -> tuple[float | None, ...]:
    return tuple(None if a is None else a / years for a in amounts)


def ordered(a: float | None, b: float | None) -> tuple[float | None, float | None]:
    if a is None or b is None:
        return a, b
    return (a, b) if a <= b else (b, a)


# ---------------------------------------------------------------------------- words


def pretty(name: str) -> str:
    """'followup_call' -> 'follow-up call', 'id_check_started' -> 'id check started'."""
    text = str(name).replace("_", " ").strip()
    return text.replace("followup", "follow-up")


def noun(event: str, plural: bool = False) -> str:
    """The thing an event counts: 'complaint_opened' -> 'complaint', 'purchase' -> 'purchase'."""
    from cjlib.nuggets.catalogue import END_SUFFIXES, START_SUFFIXES

    stem, _, suffix = str(event).rpartition("_")
    word = pretty(stem if stem and suffix in START_SUFFIXES + END_SUFFIXES else event)
    return word + "s" if plural and not word.endswith("s") else word


def article(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def money(amount: float | None, currency: str) -> str:
    """'£1,234' for small amounts, '£12k', '£1.2m' for large ones."""
    if amount is None or not math.isfinite(amount):
        return "n/a"
    sign = "-" if amount < 0 else ""
    a = abs(amount)
    if a >= 1e6:
        body = f"{a / 1e6:.1f}m"
    elif a >= 1e4:
        body = f"{a / 1e3:.0f}k"
    elif a >= 1e3:
        body = f"{a / 1e3:.1f}k"
    else:
        body = f"{a:,.0f}" if a >= 10 else f"{a:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def money_range(c: Candidate, currency: str) -> str:
    if c.money is None:
        return ""
    text = f"about {money(c.money, currency)} a year"
    if c.money_low is not None and c.money_high is not None:
        text += f" ({money(c.money_low, currency)} to {money(c.money_high, currency)})"
    return text


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.{digits}f}%"


def lift_phrase(ratio: float, what: str) -> str:
    """'doubles <what>', 'triples <what>', 'lifts <what> by 50%', 'multiplies <what> by 4.2' for
    a ratio > 1."""
    if 1.85 <= ratio < 2.2:
        return f"doubles {what}"
    if 2.75 <= ratio < 3.3:
        return f"triples {what}"
    if ratio < 1.85:
        return f"lifts {what} by {ratio - 1:.0%}"
    return f"multiplies {what} by {ratio:.1f}"


def minutes_words(m: float) -> str:
    if not math.isfinite(m):
        return "never"
    if m == 60:
        return "an hour"
    if m >= 60 and m % 60 == 0:
        return f"{m / 60:g} hours"
    if m >= 1440 and m % 1440 == 0:
        return f"{m / 1440:g} days"
    return f"{m:g} minutes"
