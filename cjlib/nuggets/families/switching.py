"""Channel switches: customers who, after a case event in one channel, turn to another channel
within 3 days (an event that is not one of the case's follow-ups, test assignments or the
conversion itself), e.g. a web quote followed by an inbound call (`j.paths(anchor=...)`).

Effect: the switchers' conversion ratio vs the non-switchers (Katz interval, two-proportion
p-value, as the analysis reports them). Money per year: the conversion gap of the
non-switchers (they are the ones a nudge to switch would reach), or for a harmful switch the
conversions the switchers lose, x margin per conversion.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from cjlib.nuggets.catalogue import MIN_EVENTS, sql
from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    call,
    finite,
    fold,
    money_range,
    ordered,
    pct,
    per_year,
    pretty,
)
from cjlib.nuggets.model import Candidate

FAMILY = "channel_switch"
WITHIN = "3d"
NOT_SWITCHES = ("surveys", "contacts")  # answering a survey or a CRM record is not a switch


def scan(st: ScanState) -> list[Candidate]:
    cat = st.cat
    if cat.conversion is None:
        raise NotApplicable("no conversion event (no kind 'orders' or phase 'purchase')")
    out = []
    for case in cat.case_events:
        moves = st.journey.query(sql("catalogue_switches"),
                                 {"case_event": case, "within": WITHIN})
        skip = {case, cat.conversion, *cat.followups.get(case, [])}
        for row in moves.itertuples():
            if (row.customers < MIN_EVENTS or row.event in skip
                    or cat.is_assignment(row.event)
                    or cat.info(row.event).kind in NOT_SWITCHES):
                continue
            kw = {"anchor": case, "anchor_channel": row.anchor_channel,
                  "switch_event": row.event, "switch_channel": row.channel,
                  "within": WITHIN, "conversion_event": cat.conversion}
            key = f"{FAMILY}:{case}:{row.anchor_channel}:{row.event}:{row.channel}"
            subject = (f"{row.anchor_channel} {pretty(case)} then {pretty(row.event)} "
                       f"({row.channel})")
            out.append(st.guard(FAMILY, key, subject, call("paths", **kw),
                                partial(_candidate, st, kw, key, subject)))
    if not out:
        raise NotApplicable("no customer turns to another channel after a case event")
    return out


def _candidate(st: ScanState, kw: dict[str, Any], key: str, subject: str) -> Candidate:
    res, text = st.run("paths", **kw)
    pr = res.params
    df = res.df
    sw, no = df[df["switched"]], df[~df["switched"]]
    n1, k1 = int(sw["customers"].sum()), int(sw["conversions"].sum())
    n0, k0 = int(no["customers"].sum()), int(no["conversions"].sum())
    rr, lo, hi = (finite(pr[k]) for k in ("risk_ratio", "risk_ratio_low", "risk_ratio_high"))
    p0 = k0 / n0 if n0 else None
    value, basis = st.unit_value(kw["anchor"])
    amounts: list[float | None] = []
    for r in (rr, lo, hi):
        if r is None or p0 is None or value is None:
            amounts.append(None)
        elif rr is not None and rr >= 1:
            amounts.append(max(n0 * p0 * (r - 1), 0.0) * value)
        else:
            amounts.append(max(n1 * p0 * (1 - r), 0.0) * value)
    m, m_lo, m_hi = per_year(tuple(amounts), st.cat.years(kw["anchor"]))
    m_lo, m_hi = ordered(m_lo, m_hi)
    cand = Candidate(
        FAMILY, key, subject, text,
        effect_name="conversion ratio, switchers vs the rest",
        effect=rr, low=lo, high=hi, null=1.0, p_value=finite(pr.get("p_value")),
        groups={"switched": n1, "did not switch": n0}, outcomes=k1 + k0, size=fold(rr),
        floor=1 + st.rules.min_change, money=m, money_low=m_lo, money_high=m_hi,
        money_basis=(f"conversion gap per year x {basis}" if value is not None else basis),
        result=res,
        figures={"ratio": (rr, lo, hi), "share_switching": (finite(pr.get("share_switching")),
                                                            None, None)},
    )
    case, channel, event = pretty(kw["anchor"]), kw["switch_channel"], pretty(kw["switch_event"])
    who = f"{kw['anchor_channel']} {case}"
    if rr is None:
        cand.headline = f"Switching to {channel} after a {who}: too few customers to compare."
        return cand
    verb = f"convert {rr:.1f}x as often" if rr >= 1 else f"convert {1 - rr:.0%} less often"
    head = (f"Customers who turn to {channel} ({event}) within {WITHIN.rstrip('d')} days of a "
            f"{who} {verb} ({pct(k1 / n1 if n1 else None)} vs {pct(p0)}); "
            f"{n1:,} of {n1 + n0:,} do")
    words = money_range(cand, st.currency)
    if words:
        head += (f". Worth {words} if the others converted like them" if rr >= 1 else
                 f". The switch costs {words}")
    cand.headline = head + "."
    return cand
