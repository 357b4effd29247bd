"""Durations that drive outcomes: for every pair of case steps (both carrying the case_id, e.g.
a payout requested then paid) and every outcome (a complaint opened, the conversion), does the
time between the steps change the outcome rate (`j.process(start=, end=, outcome=)`)?

Effect: the linear-probability slope per day with its robust interval; p-value: the analysis'
logistic slope test. Size: the fitted change in the rate across the observed durations (first to
last duration bin) relative to the average rate. Money per year: outcomes avoided (or
conversions gained) if every case were as fast as the fastest bin, from the slope and the cases
in each bin, x the value of one outcome: margin per conversion for the conversion, the
`outcome_values=` given to the scan for a bad outcome (no money otherwise).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    article,
    call,
    finite,
    money,
    money_range,
    noun,
    ordered,
    pct,
    per_year,
    pretty,
)
from cjlib.nuggets.model import Candidate

FAMILY = "duration_outcome"
WITHIN = "30d"


def scan(st: ScanState) -> list[Candidate]:
    cat = st.cat
    outcomes = [*cat.bad_outcomes, *([cat.conversion] if cat.conversion else [])]
    if not cat.duration_pairs or not outcomes:
        raise NotApplicable("no pair of case steps with an outcome to relate their time to")
    out = []
    for s, e in cat.duration_pairs:
        for o in outcomes:
            if o in (s, e):
                continue
            kw = {"start": s, "end": e, "outcome": o, "within": WITHIN}
            key = f"{FAMILY}:{s}:{e}:{o}"
            subject = f"{pretty(s)} -> {pretty(e)} time and {pretty(o)}"
            out.append(st.guard(FAMILY, key, subject, call("process", **kw),
                                partial(_candidate, st, kw, key, subject)))
    return out


def _candidate(st: ScanState, kw: dict[str, Any], key: str, subject: str) -> Candidate:
    res, text = st.run("process", **kw)
    pr, df = res.params, res.df
    cases, outcomes = int(pr["cases"]), int(df["outcomes"].sum()) if len(df) else 0
    b1, lo, hi = (finite(pr[k]) for k in ("linear_b1", "linear_b1_low", "linear_b1_high"))
    if b1 is None or len(df) < 2:
        return Candidate(FAMILY, key, subject, text, result=res, groups={"cases": cases},
                         outcomes=outcomes, untestable="too few cases or no outcome to relate")
    x = df["mean_duration"].to_numpy(float)
    n = df["cases"].to_numpy(float)
    avg = outcomes / cases if cases else np.nan
    spread = float(x[-1] - x[0])
    size = 1 + abs(b1) * spread / avg if avg and avg > 0 else None
    good = kw["outcome"] == st.cat.conversion
    harmful = (b1 < 0) if good else (b1 > 0)
    per_outcome, basis = _unit_value(st, kw)
    years = st.cat.years(kw["start"])
    amounts = []
    for slope in (b1, lo, hi):
        if slope is None or per_outcome is None or not harmful:
            amounts.append(None)
            continue
        avoided = float(np.sum(n * abs(slope) * np.clip(x - x[0], 0, None)))
        avoided = avoided if np.sign(slope) == np.sign(b1) else 0.0
        amounts.append(avoided * per_outcome)
    m, m_lo, m_hi = per_year(tuple(amounts), years)
    m_lo, m_hi = ordered(m_lo, m_hi)
    unit = pr.get("unit", "days").rstrip("s")
    cand = Candidate(
        FAMILY, key, subject, text,
        effect_name=f"change in the {pretty(kw['outcome'])} rate per {unit} of "
                    f"{pretty(kw['start'])} -> {pretty(kw['end'])} time",
        effect=b1, low=lo, high=hi, null=0.0, p_value=finite(pr.get("p_value")),
        groups={"cases": cases}, outcomes=outcomes, size=size,
        floor=1 + st.rules.min_change, money=m, money_low=m_lo, money_high=m_hi,
        money_basis=basis, result=res,
        figures={"slope": (b1, lo, hi),
                 "logit_slope": (finite(pr.get("logit_b")), finite(pr.get("logit_b_low")),
                                 finite(pr.get("logit_b_high"))),
                 "rate_fastest": (float(df["rate"].iloc[0]), finite(df["low"].iloc[0]),
                                  finite(df["high"].iloc[0])),
                 "rate_slowest": (float(df["rate"].iloc[-1]), finite(df["low"].iloc[-1]),
                                  finite(df["high"].iloc[-1]))},
    )
    first, last = df.iloc[0], df.iloc[-1]
    s, e, o = pretty(kw["start"]), pretty(kw["end"]), noun(kw["outcome"])
    verb = "drives" if b1 > 0 else "cuts"
    head = (f"Slow {s} -> {e} {verb} {o}s: {pct(first['rate'])} of cases with "
            f"{first['duration']} {unit}s between them lead to {article(o)} within "
            f"{WITHIN[:-1]} days "
            f"vs {pct(last['rate'])} at {last['duration']} {unit}s; each extra {unit} "
            f"{'adds' if b1 > 0 else 'takes off'} {100 * abs(b1):.1f} points")
    if harmful and per_outcome is None and b1 is not None:
        count = float(np.sum(n * abs(b1) * np.clip(x - x[0], 0, None))) / years
        head += (f". About {count:,.0f} {o}s a year would be avoided if every case were as "
                 f"fast as the fastest fifth (set outcome_values={{'{kw['outcome']}': "
                 f"cost}} to put money on it)")
    words = money_range(cand, st.currency)
    if words:
        head += f". Worth {words} if every case were as fast as the fastest fifth"
    cand.headline = head + "."
    return cand


def _unit_value(st: ScanState, kw: dict[str, Any]) -> tuple[float | None, str]:
    o = kw["outcome"]
    if o in st.outcome_values:
        v = float(st.outcome_values[o])
        return v, f"{o}s avoided per year x {money(v, st.currency)} each (outcome_values)"
    if o == st.cat.conversion and st.cat.main_case is not None:
        value, basis = st.unit_value(st.cat.main_case)
        return value, f"conversions gained per year x {basis}"
    return None, f"no value for one {o} (pass outcome_values={{'{o}': cost}})"
