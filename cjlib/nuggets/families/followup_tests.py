"""Follow-up tests: every attrs key holding test arms (`j.followup_test`), one candidate per arm
against the control (the arm cheapest to contact, as the analysis picks it).

Effect: the conversion lift (difference of rates, Newcombe interval, two-proportion p-value, as
the analysis reports them). Money per year: the analysis' incremental margin per contact (lift
x value per conversion x margin minus the extra contact cost, with its interval) x the cases a
year of the case event the test assigns.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    call,
    finite,
    fold,
    money,
    money_range,
    ordered,
    pct,
    pretty,
)
from cjlib.nuggets.model import Candidate

FAMILY = "followup_test"


def scan(st: ScanState) -> list[Candidate]:
    if st.cat.conversion is None:
        raise NotApplicable("no conversion event (no kind 'orders' or phase 'purchase')")
    if not st.cat.arms:
        raise NotApplicable("no events carry test arms (attrs key such as 'arm' or 'variant')")
    out: list[Candidate] = []
    for key_name, events in st.cat.arms:
        case = _case_event(st, events)
        kw: dict[str, Any] = {"arm_attr": key_name, "case_event": case,
                              "conversion_event": st.cat.conversion}
        if len(events) == 1:
            kw["assign_event"] = events[0]
        text = call("followup_test", **kw)
        try:
            res, text = st.run("followup_test", **kw)
        except Exception as exc:
            out.append(Candidate(FAMILY, f"{FAMILY}:{key_name}", f"test arms in {key_name}",
                                 text, untestable=f"analysis failed: {type(exc).__name__}: "
                                                  f"{exc}"))
            continue
        for arm in res.df.loc[~res.df["is_control"], "arm"]:
            key = f"{FAMILY}:{key_name}:{arm}"
            out.append(st.guard(FAMILY, key, f"test arm {arm}", text,
                                partial(_candidate, st, res, text, arm, case, key)))
    return out


def _case_event(st: ScanState, events: list[str]) -> str | None:
    """The case event whose case_ids the assignment events carry (None: per customer)."""
    links = st.cat.links
    hits = links[links.linked_event.isin(events) & links.case_event.isin(st.cat.case_events)]
    return str(hits.sort_values("cases").case_event.iloc[-1]) if len(hits) else None


def _candidate(st: ScanState, res: Any, text: str, arm: str, case: str | None,
               key: str) -> Candidate:
    df = res.df
    row = df[df["arm"] == arm].iloc[0]
    ctrl = df[df["is_control"]].iloc[0]
    lift, lo, hi = finite(row["lift"]), finite(row["lift_low"]), finite(row["lift_high"])
    ratio = row["rate"] / ctrl["rate"] if ctrl["rate"] and ctrl["rate"] > 0 else None
    per_contact = tuple(finite(row[c]) for c in (
        "incremental_margin_per_contact", "incremental_margin_low", "incremental_margin_high"))
    volume = None
    if case is not None:
        volume = st.cat.info(case).cases / st.cat.years(case)
    sign = -1.0 if (per_contact[0] or 0) < 0 else 1.0  # money at stake in the finding's direction
    m, m_lo, m_hi = (None if v is None or volume is None else sign * v * volume
                     for v in per_contact)
    m_lo, m_hi = ordered(m_lo, m_hi)
    unit = pretty(case) if case else "customer"
    cand = Candidate(
        FAMILY, key, f"test arm {arm} vs {ctrl['arm']}", text,
        effect_name=f"conversion lift, {arm} vs {ctrl['arm']} (difference of rates)",
        effect=lift, low=lo, high=hi, null=0.0, p_value=finite(row["p_value"]),
        groups={str(arm): int(row["cases"]), str(ctrl["arm"]): int(ctrl["cases"])},
        outcomes=int(row["conversions"] + ctrl["conversions"]), size=fold(ratio),
        floor=1 + st.rules.min_change, money=m, money_low=m_lo, money_high=m_hi,
        money_basis=(f"incremental margin per {unit} after contact costs x "
                     f"{volume:,.0f} {unit}s a year" if volume else "no case volume"),
        result=res,
        figures={"lift": (lift, lo, hi), "incremental_margin_per_contact": per_contact,
                 "rate_arm": (float(row["rate"]), finite(row["rate_low"]),
                              finite(row["rate_high"])),
                 "rate_control": (float(ctrl["rate"]), finite(ctrl["rate_low"]),
                                  finite(ctrl["rate_high"]))},
    )
    extra = float(row["cost_per_contact"] - ctrl["cost_per_contact"])
    per = per_contact[0]
    if lift is None:
        cand.headline = f"Follow-up test: {arm} vs {ctrl['arm']} cannot be compared."
        return cand
    better = lift > 0
    text_rates = (f"{pct(row['rate'])} of {unit}s convert with {arm} vs {pct(ctrl['rate'])} "
                  f"with {ctrl['arm']} ({100 * lift:+.0f} points)")
    head = (f"In the follow-up test, {arm} beats {ctrl['arm']}: " if better else
            f"In the follow-up test, {arm} does worse than {ctrl['arm']}: ") + text_rates
    if per is not None:
        cost = (f" after its {money(extra, st.currency)} higher contact cost" if extra > 0 else
                f" with a {money(-extra, st.currency)} lower contact cost" if extra < 0 else "")
        head += (f", {money(abs(per), st.currency)} {'more' if per > 0 else 'less'} margin per "
                 f"{unit}{cost}")
    words = money_range(cand, st.currency)
    if words and per is not None:
        head += (f". Worth {words} if every {unit} got {arm}" if per > 0 else
                 f". Giving every {unit} {arm} would cost {words}")
    cand.headline = head + "."
    return cand
