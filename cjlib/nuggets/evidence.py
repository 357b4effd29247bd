"""The evidence bar: Benjamini-Hochberg over every candidate scanned, then the minimum-evidence
rules of `Rules`. A candidate is shown only when all of them hold; otherwise `reason` says which
failed (every failing rule is listed).
"""

from __future__ import annotations

import math

import numpy as np

from cjlib.analyses.stats import benjamini_hochberg
from cjlib.nuggets.model import Candidate, Rules


def q_values(p_values: list[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (untested = 1), the smallest q at which each
    candidate is rejected."""
    from statsmodels.stats.multitest import multipletests

    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    if p.size == 0:
        return p
    return multipletests(p, method="fdr_bh")[1]


def judge(candidates: list[Candidate], rules: Rules) -> None:
    """Set q_value, passed and reason on every candidate (in place)."""
    p = [c.p_value if c.tested else math.nan for c in candidates]
    rejected = benjamini_hochberg(p, rules.q)
    qs = q_values(p)
    for c, reject, q in zip(candidates, rejected, qs, strict=True):
        c.q_value = float(q) if c.tested else None
        reasons = _failures(c, rules, bool(reject))
        c.passed = not reasons
        c.reason = "; ".join(reasons) if reasons else "shown"


def _failures(c: Candidate, rules: Rules, rejected: bool) -> list[str]:
    if not c.tested:
        return [f"not tested: {c.untestable or 'no p-value'}"]
    out = []
    if c.groups and min(c.groups.values()) < rules.min_group:
        small = min(c.groups, key=lambda g: c.groups[g])
        out.append(f"too few: {c.groups[small]:,} in '{small}' (< {rules.min_group})")
    if c.outcomes is not None and c.outcomes < rules.min_outcomes:
        out.append(f"too few outcomes: {c.outcomes} (< {rules.min_outcomes})")
    if c.low is None or c.high is None or c.low <= c.null <= c.high:
        out.append("95% interval includes no effect")
    if c.size is None or c.floor is None or c.size < c.floor:
        size = "n/a" if c.size is None else f"{c.size:.2f}x"
        out.append(f"effect below the floor ({size} < {c.floor:g}x)")
    elif c.min_excess is not None and (c.excess is None or c.excess < c.min_excess):
        out.append(f"effect below the floor ({c.excess:+.0%} < +{c.min_excess:.0%} of attempts)")
    if not rejected:
        out.append(f"not significant after Benjamini-Hochberg (q = {c.q_value:.3g} > "
                   f"{rules.q:g})")
    return out


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Shown candidates by money at stake per year (largest first; those without money after,
    by q-value)."""
    shown = [c for c in candidates if c.passed]
    return sorted(shown, key=lambda c: (c.money is None, -(c.money or 0.0), c.q_value or 1.0))
