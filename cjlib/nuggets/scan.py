"""`scan(j)`: run every candidate family over the client, judge the candidates against the
evidence bar, rank what passes by money at stake (DESIGN section 5, "Nuggets").

Families plug in through `FAMILIES` (name -> function returning candidates). A family that
has nothing to scan raises NotApplicable; one whose analysis is broken is recorded as
"not scanned (error ...)" and the scan goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cjlib.nuggets import catalogue
from cjlib.nuggets.common import NotApplicable, ScanState
from cjlib.nuggets.evidence import judge, rank
from cjlib.nuggets.families import (
    breakdowns,
    context,
    dose,
    followup_tests,
    latency,
    retention,
    steps,
    switching,
)
from cjlib.nuggets.model import Candidate, Rules
from cjlib.nuggets.report import NuggetReport

FAMILIES: dict[str, Callable[[ScanState], list[Candidate]]] = {
    "latency": latency.scan,
    "followup_test": followup_tests.scan,
    "channel_switch": switching.scan,
    "breakdowns": breakdowns.scan,
    "repeat_purchase": breakdowns.scan_repeat,
    "step_failure": steps.scan,
    "duration_outcome": dose.scan,
    "retention": retention.scan,
}

#: Analyses the scan does not turn into candidates, and why (reported with every scan).
NOT_CANDIDATES = {
    "attribution": "credit shares are an allocation of conversions, not an effect to test",
    "segments": "RFM segments and k-means personas are defined by purchase behaviour, so their "
                "conversion differs by construction; the client's own segments are compared",
    "clv": "predicted value is a forecast, not a difference to test; repeat purchase by group "
           "is compared instead",
    "time_to_convert": "timing describes converters; conversion itself is compared",
}


def scan(
    journey: Any,
    *,
    families: list[str] | None = None,
    rules: Rules | None = None,
    value_per_conversion: float | None = None,
    outcome_values: dict[str, float] | None = None,
    conversion_event: str | None = None,
    case_events: list[str] | None = None,
    **rule_settings: Any,
) -> NuggetReport:
    """Scan the journey for nuggets.

    families: which of FAMILIES to run (default all). rules / rule_settings: the evidence bar
    (`Rules`; e.g. q=0.05, min_group=50). value_per_conversion: overrides the mean value of the
    conversion event; outcome_values: the cost of one bad outcome, e.g.
    {"complaint_opened": 250}, so duration -> complaint findings carry money.
    conversion_event / case_events: override what the catalogue finds. The context facts
    (costliest drop-out, least liked touchpoint) come with a full scan only (families=None).
    """
    start = time.perf_counter()
    rules = replace(rules or Rules(), **rule_settings)
    unknown = set(families or []) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown families {sorted(unknown)}; choose from {list(FAMILIES)}")
    cat = catalogue.build(journey, conversion_event, case_events)
    st = ScanState(journey, cat, rules, value_per_conversion, dict(outcome_values or {}))
    candidates: list[Candidate] = []
    status: dict[str, str] = {}
    for name, fn in FAMILIES.items():
        if families is not None and name not in families:
            continue
        try:
            found = fn(st)
        except NotApplicable as exc:
            status[name] = f"not scanned ({exc})"
            continue
        except Exception as exc:  # a broken analysis must not stop the other families
            status[name] = f"not scanned (error: {type(exc).__name__}: {exc})"
            continue
        broken = [c for c in found if c.untestable.startswith("analysis failed")]
        if found and len(broken) == len(found):
            status[name] = f"not scanned ({broken[0].untestable})"
        else:
            tested = sum(c.tested for c in found)
            status[name] = f"scanned: {len(found)} candidates, {tested} tested"
        candidates += found
    facts, fact_status = context.facts(st) if families is None else ([], {})
    judge(candidates, rules)
    return NuggetReport(
        findings=rank(candidates), candidates=candidates, context=facts,
        families={**status, **{f"context: {k}": v for k, v in fact_status.items()}},
        rules=rules, catalogue=cat.describe(), currency=journey.currency,
        client=journey.settings.client, elapsed_s=time.perf_counter() - start,
        not_candidates=dict(NOT_CANDIDATES),
    )
