"""Follow-up latency: for every case event and each of its follow-up methods, does a fast
follow-up raise conversion (`j.latency_effect`)?

One candidate per (case event, follow-up event). The analysis is run with no follow-up as the
baseline; when it finds the latency beyond which the effect is gone, it is run again with that
latency as the baseline (no follow-up, or a later one), which is the comparison the client acts
on. Effect: the fastest bucket's conversion ratio vs that baseline, adjusted for the analysis'
confounders (Mantel-Haenszel), its p-value the one its interval implies.

Money per year: conversions gained if every case not followed up that fast converted at the
fast rate (baseline rate x (fast ratio - the bucket's ratio), summed over the slower buckets),
x margin per conversion; for a harmful fast follow-up, the conversions it loses.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    article,
    call,
    finite,
    fold,
    lift_phrase,
    minutes_words,
    money_range,
    ordered,
    p_from_interval,
    pct,
    per_year,
    pretty,
)
from cjlib.nuggets.model import Candidate

FAMILY = "latency"
VERBS = {  # channel of the follow-up -> (gerund, noun, participle)
    "phone": ("Calling", "call", "called"),
    "email": ("Emailing", "email", "emailed"),
    "sms": ("Texting", "text", "texted"),
}


def scan(st: ScanState) -> list[Candidate]:
    if st.cat.conversion is None:
        raise NotApplicable("no conversion event (no kind 'orders' or phase 'purchase')")
    pairs = [(c, f) for c, fs in st.cat.followups.items() for f in fs]
    if not pairs:
        raise NotApplicable("no case event has follow-up contacts carrying its case_id")
    out = []
    for case, follow in pairs:
        key = f"{FAMILY}:{case}:{follow}"
        subject = f"{pretty(follow)} speed after a {pretty(case)}"
        kw = {"case_event": case, "followup_events": [follow],
              "conversion_event": st.cat.conversion}
        out.append(st.guard(FAMILY, key, subject, call("latency_effect", **kw),
                            partial(_candidate, st, case, follow, kw, key, subject)))
    return out


def _candidate(st: ScanState, case: str, follow: str, kw: dict[str, Any], key: str,
               subject: str) -> Candidate:
    first, first_call = st.run("latency_effect", **kw)
    effect0 = first.params["effects"].get("any")
    if not effect0 or not effect0["cases"]:
        return Candidate(FAMILY, key, subject, first_call, result=first,
                         untestable="no cases for the latency analysis")
    edges = first.params["buckets_min"]
    gone = effect0.get("gone_after_min")
    res, text = first, first_call
    if gone is not None and 0 < gone < edges[-1]:
        res, text = st.run("latency_effect", **kw, baseline=float(gone))
    calls = [first_call] if text != first_call else []
    table = res.df[res.df["method"] == "any"].reset_index(drop=True)
    fast, base = table.iloc[0], table[table["is_baseline"]].iloc[0]
    adjusted = bool(res.params["adjust_for"])
    prefix = "ratio_adj" if adjusted else "ratio"
    rr = finite(fast[prefix])
    lo, hi = finite(fast[f"{prefix}_low"]), finite(fast[f"{prefix}_high"])
    if rr is None:
        return Candidate(FAMILY, key, subject, text, result=res, calls=calls,
                         untestable=f"no comparison possible: {res.headline}")
    p = p_from_interval(rr, lo, hi)
    base_rate = float(base["rate"]) if base["cases"] else math.nan
    value, basis = st.unit_value(case)
    amounts = tuple(_gain(table, r, base_rate, prefix, harmful=rr < 1) if r is not None
                    else None for r in (rr, lo, hi))
    years = st.cat.years(case)
    m, m_lo, m_hi = per_year(tuple(None if a is None or value is None else a * value
                                   for a in amounts), years)
    m_lo, m_hi = ordered(m_lo, m_hi)
    cand = Candidate(
        FAMILY, key, subject, text,
        effect_name=f"conversion ratio, {fast['bucket']} vs {base['bucket']}"
                    + (" (adjusted)" if adjusted else ""),
        effect=rr, low=lo, high=hi, null=1.0, p_value=p,
        groups={str(fast["bucket"]): int(fast["cases"]), str(base["bucket"]): int(base["cases"])},
        outcomes=int(fast["conversions"] + base["conversions"]), size=fold(rr),
        floor=1 + st.rules.min_change, money=m, money_low=m_lo, money_high=m_hi,
        money_basis=(f"conversions gained per year if every {pretty(case)} were followed up "
                     f"{fast['bucket']} x {basis}" if value is not None else basis),
        result=res, calls=calls,
        figures={
            "ratio": (rr, lo, hi),
            "ratio_raw": (finite(fast["ratio"]), finite(fast["ratio_low"]),
                          finite(fast["ratio_high"])),
            "rate_fast": (float(fast["rate"]), finite(fast["rate_low"]),
                          finite(fast["rate_high"])),
            "rate_baseline": (base_rate, finite(base["rate_low"]), finite(base["rate_high"])),
            "gone_after_min": (gone, effect0.get("gone_after_low"),
                               effect0.get("gone_after_high")),
        },
    )
    cand.headline = _headline(st, cand, case, follow, fast, base, gone)
    return cand


def _gain(table: Any, rr_fast: float, base_rate: float, prefix: str, harmful: bool) -> float:
    """Conversions gained (helpful fast follow-up) or lost (harmful) over the data period at a
    fast-bucket ratio `rr_fast` (the estimate or an interval bound), see the module."""
    fast = table.iloc[0]
    if harmful:
        return float(fast["cases"] * base_rate * max(1 - rr_fast, 0.0))
    total = 0.0
    for row in table.iloc[1:].itertuples():
        ratio = 1.0 if row.is_baseline else finite(getattr(row, prefix))
        if ratio is None:
            ratio = finite(row.ratio) or 1.0
        total += row.cases * base_rate * max(rr_fast - ratio, 0.0)
    return total


def _headline(st: ScanState, c: Candidate, case: str, follow: str, fast: Any, base: Any,
              gone: float | None) -> str:
    channel = st.cat.info(follow).channel
    verb, noun, done = VERBS.get(channel, (f"A {pretty(follow)}", pretty(follow),
                                           f"followed up by {pretty(follow)}"))
    rr = c.effect if c.effect is not None else float("nan")
    when = str(fast["bucket"])
    base_words = (f"with no {noun} or a later one" if "after" in str(base["bucket"])
                  else f"with no {noun}")
    rates = f"({pct(fast['rate'])} vs {pct(base['rate'])} {base_words})"
    adjusted = " after adjusting for " + ", ".join(c.result.params["adjust_for"]) \
        if c.result is not None and c.result.params["adjust_for"] else ""
    if not np.isfinite(rr):
        return f"{verb} {when} after a {pretty(case)}: too few cases to compare."
    if rr >= 1:
        what = f"its conversion to {pretty(st.cat.conversion)}"
        text = (f"{verb} {when} after a {pretty(case)} {lift_phrase(rr, what)} {rates}; "
                f"{rr:.2f}x{adjusted}")
    else:
        text = (f"{verb} {when} after a {pretty(case)} goes with {1 - rr:.0%} lower conversion "
                f"to {pretty(st.cat.conversion)} {rates}; {rr:.2f}x{adjusted}")
    if gone is not None and 0 < gone < float("inf"):
        text += f". After {minutes_words(gone)} {article(noun)} makes no difference"
    words = money_range(c, st.currency)
    if words:
        target = (f"if every {pretty(case)} were {done} {when}" if rr >= 1
                  else f"lost on {pretty(case)}s {done} {when}")
        text += f". Worth {words} {target}"
    return text + "."
