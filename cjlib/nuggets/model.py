"""What a scan produces: candidates (everything looked at), the evidence rules, context facts.

A *candidate* is one hypothesis the scan tested with one analysis call ("calling within 20 min
raises quote conversion", "social leads convert differently from the other lead sources"). It
carries the effect with its interval, the p-value, the sample sizes, the money at stake per year
and the Result behind it. The evidence rules (`Rules`) decide which candidates are shown as
nuggets; the rest stay in the report with the reason they were not shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cjlib.result import Result

#: A named figure with its 95% interval: (estimate, low, high).
Figure = tuple[float, float | None, float | None]


@dataclass(frozen=True)
class Rules:
    """The evidence bar. A candidate is shown only when every rule holds.

    q: Benjamini-Hochberg false-discovery rate over every candidate scanned.
    min_group: units (cases, customers, attempts) in each compared group.
    min_outcomes: outcome events (conversions, failures, complaints) behind the comparison.
    min_change: smallest relative change of a rate worth a director's time, for comparisons
        within one population (a lever: latency, lead source, test arm, switching, delay).
    min_step_ratio, min_step_excess: a step must fail at least this many times as often as
        the client's typical step, and on at least this share of attempts more (comparisons
        between different steps differ by nature, and a ratio alone exaggerates small rates:
        2% against 14% is 7x but 12 attempts in 100).
    """

    q: float = 0.01
    min_group: int = 100
    min_outcomes: int = 10
    min_change: float = 0.20
    min_step_ratio: float = 2.0
    min_step_excess: float = 0.20

    def describe(self) -> str:
        return (f"Benjamini-Hochberg q <= {self.q:g} over every candidate; 95% interval excludes "
                f"no effect; at least {self.min_group} units in each group and "
                f"{self.min_outcomes} outcomes; rates change by at least "
                f"{self.min_change:.0%} (a step fails at least {self.min_step_ratio:g}x as often "
                f"as the client's typical step and on {self.min_step_excess:.0%} more of the "
                "attempts)")


@dataclass
class Candidate:
    """One hypothesis the scan tested (see the module docstring).

    `effect`/`low`/`high` are on the scale named by `effect_name`; `null` is its no-effect value
    (1 for ratios, 0 for differences and slopes). `size` is the effect as a ratio of rates (>= 1:
    folded), compared with the floor `floor`; where an absolute floor applies too, `excess` is
    the absolute difference of rates and `min_excess` its floor. `money` is per year in the
    journey's currency (None when no value per outcome is known). `call` reproduces the
    evidence; `calls` lists any further calls the money or the headline uses.
    """

    family: str
    key: str
    subject: str
    call: str
    effect_name: str = ""
    effect: float | None = None
    low: float | None = None
    high: float | None = None
    null: float = 1.0
    p_value: float | None = None
    groups: dict[str, int] = field(default_factory=dict)
    outcomes: int | None = None
    size: float | None = None
    floor: float | None = None
    excess: float | None = None
    min_excess: float | None = None
    money: float | None = None
    money_low: float | None = None
    money_high: float | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    money_basis: str = ""
    headline: str = ""
    result: Result | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    untestable: str = ""
    q_value: float | None = None
    passed: bool = False
    reason: str = ""

    @property
    def tested(self) -> bool:
        return self.p_value is not None and math.isfinite(self.p_value)

    def as_row(self) -> dict[str, Any]:
        """A flat record (for the report's DataFrame)."""
        return {
            "family": self.family, "key": self.key, "subject": self.subject,
            "headline": self.headline, "money": self.money, "money_low": self.money_low,
            "money_high": self.money_high, "effect_name": self.effect_name,
            "effect": self.effect, "effect_low": self.low, "effect_high": self.high,
            "p_value": self.p_value, "q_value": self.q_value,
            "n": sum(self.groups.values()) if self.groups else None,
            "smallest_group": min(self.groups.values()) if self.groups else None,
            "outcomes": self.outcomes, "passed": self.passed, "reason": self.reason,
            "call": self.call,
        }


@dataclass
class ContextFact:
    """A descriptive fact worth knowing but not a tested effect (the costliest drop-out step, the
    least liked touchpoint): shown apart from the nuggets, never ranked with them."""

    family: str
    headline: str
    call: str
    result: Result | None = None
    money: float | None = None
    money_low: float | None = None
    money_high: float | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    subject: str = ""
