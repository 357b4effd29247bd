"""Groups that convert (or buy again) differently: lead sources, campaigns, channels, products,
segments and regions, each value against all the others.

- conversion: `j.funnel([case_event, conversion], by=property)` for the main case event and each
  of its properties (source, channel, low-cardinality attrs keys such as a campaign or product)
  and the customers' segment and region;
- repeat purchase ("churn"): `j.funnel([conversion, conversion], window="365d", by=property)`
  by the customers' segment, region and acquisition source.

Cases assigned to a follow-up test are left out of the conversion comparisons (`exclude=` the
assignment events): the test, not the group, decided how they were followed up.

Per value: its rate against the pooled other values (units still inside their window are left
out, as the funnel reports them; units without a value are left out of both sides), the risk
ratio with its Katz interval and the two-proportion p-value (cjlib.analyses.stats). A property
with two values is one comparison. Money per year: the value's gap to the others x its units
x margin per conversion (the value from `j.hotspots([case_event, conversion])`, or for repeat
purchases from `j.hotspots([conversion, conversion], window="365d")`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses import stats
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
    rate_figure,
)
from cjlib.nuggets.model import Candidate

NONE_LABEL = "(none)"
REPEAT_WINDOW = "365d"
FAMILIES = {"source": "lead_source", "segment": "segment", "customer.source": "lead_source"}


def scan(st: ScanState) -> list[Candidate]:
    """Conversion of the main case event by each of its properties."""
    cat = st.cat
    if cat.conversion is None or cat.main_case is None:
        raise NotApplicable("no case event and conversion event to compare groups on")
    case = cat.main_case
    props = cat.breakdowns.get(case, []) + cat.customer_breakdowns
    if not props:
        raise NotApplicable(f"{pretty(case)} has no property with a few values to compare")
    assigned = [e for _, events in cat.arms for e in events]
    extra = {"exclude": assigned} if assigned else {}
    out: list[Candidate] = []
    for prop in props:
        args = ([case, cat.conversion],)
        out += _levels(st, prop, args, {"by": prop, **extra}, case, repeat=False)
    return out


def scan_repeat(st: ScanState) -> list[Candidate]:
    """Repeat purchase within a year by customer property (who churns differently)."""
    cat = st.cat
    if cat.conversion is None:
        raise NotApplicable("no conversion event (no kind 'orders' or phase 'purchase')")
    props = list(cat.customer_breakdowns)
    from cjlib.analyses.conversion_common import customer_columns

    if "source" in customer_columns(st.journey):
        props.append("customer.source")
    if not props:
        raise NotApplicable("customers carry no segment, region or source to compare")
    out: list[Candidate] = []
    conv = cat.conversion
    for prop in props:
        out += _levels(st, prop, ([conv, conv],), {"window": REPEAT_WINDOW, "by": prop}, conv,
                       repeat=True)
    return out


def _levels(st: ScanState, prop: str, args: tuple[Any, ...], kw: dict[str, Any], case: str,
            repeat: bool) -> list[Candidate]:
    family = ("repeat_" if repeat else "") + FAMILIES.get(prop, "breakdown")
    text = call("funnel", *args, **kw)
    try:
        res, text = st.run("funnel", *args, **kw)
    except Exception as exc:
        return [Candidate(family, f"{family}:{prop}", f"{case} by {prop}", text,
                          untestable=f"analysis failed: {type(exc).__name__}: {exc}")]
    table = _counts(res.df, prop)
    if len(table) < 2:
        return [Candidate(family, f"{family}:{prop}", f"{case} by {prop}", text, result=res,
                          untestable=f"fewer than two values of {prop}")]
    levels = list(table.index)
    if len(levels) == 2:  # one comparison: the smaller group against the larger
        levels = [table["n"].idxmin()]
    value = st.repeat_value() if repeat else st.unit_value(case)
    out = []
    for level in levels:
        key = f"{family}:{case}:{prop}={level}"
        subject = _group_words(prop, level, case) + (": repeat purchase" if repeat else "")
        out.append(st.guard(family, key, subject, text, partial(
            _candidate, st, res, text, table, prop, level, case, family, key, value, repeat)))
    return out


def _counts(df: pd.DataFrame, prop: str) -> pd.DataFrame:
    """Per value: decided units n (entrants minus those still in their window) and conversions."""
    first = df[df["step"] == 1].set_index(prop)["reached"]
    last = df[df["step"] == df["step"].max()].set_index(prop)
    table = pd.DataFrame({"n": first - last["in_progress"], "k": last["reached"]})
    table = table[(table.index != NONE_LABEL) & (table["n"] > 0)]
    return table.astype(int)


def _candidate(st: ScanState, res: Any, text: str, table: pd.DataFrame, prop: str, level: Any,
               case: str, family: str, key: str, value: tuple[float | None, str],
               repeat: bool) -> Candidate:
    k1, n1 = int(table.at[level, "k"]), int(table.at[level, "n"])
    rest = table.drop(index=level)
    k0, n0 = int(rest["k"].sum()), int(rest["n"].sum())
    rr, lo, hi = (finite(x) for x in stats.risk_ratio(k1, n1, k0, n0))
    pooled = (k1 + k0) / (n1 + n0)
    p = stats.two_proportion_test(k1, n1, k0, n0)[1] if 0 < pooled < 1 else np.nan
    p0 = k0 / n0
    unit, basis = value
    amounts = tuple(None if r is None or unit is None else n1 * p0 * abs(r - 1) * unit
                    for r in (rr, lo, hi))
    if rr is not None and lo is not None and hi is not None and lo <= 1 <= hi:
        amounts = (amounts[0], 0.0, max(amounts[1] or 0.0, amounts[2] or 0.0))
    m, m_lo, m_hi = per_year(amounts, st.cat.years(case))
    m_lo, m_hi = ordered(m_lo, m_hi)
    cand = Candidate(
        family, key, _group_words(prop, level, case) + (": repeat purchase" if repeat else ""),
        text,
        effect_name=f"{'repeat purchase' if repeat else 'conversion'} ratio vs the other "
                    f"values of {prop}",
        effect=rr, low=lo, high=hi, null=1.0, p_value=finite(p),
        groups={str(level): n1, "others": n0}, outcomes=k1 + k0, size=fold(rr),
        floor=1 + st.rules.min_change, money=m, money_low=m_lo, money_high=m_hi,
        money_basis=(f"gap to the others x units per year x {basis}" if unit else basis),
        result=res,
        figures={"ratio": (rr, lo, hi), "rate": rate_figure(k1, n1),
                 "rate_others": rate_figure(k0, n0)},
    )
    if not 0 < pooled < 1:
        cand.untestable = "no one or everyone converted: nothing to compare"
    cand.headline = _headline(st, cand, prop, level, case, k1 / n1, p0, repeat)
    return cand


PROPERTY_WORDS = {"source": "lead source", "customer.source": "lead source",
                  "channel": "channel", "segment": "segment", "region": "region"}


def _prop_words(prop: str) -> str:
    return PROPERTY_WORDS.get(prop, pretty(prop.removeprefix("attrs.").removeprefix("customer.")))


def _group_words(prop: str, level: Any, case: str) -> str:
    name = pretty(str(level))
    if prop in ("source", "customer.source"):
        return f"{name} leads"
    if prop == "channel":
        return f"{name} {pretty(case)}s"
    if prop in ("segment", "region"):
        return f"customers in {prop} {name}"
    return f"{pretty(case)}s with {_prop_words(prop)} {name}"


def _headline(st: ScanState, c: Candidate, prop: str, level: Any, case: str, rate: float,
              rate0: float, repeat: bool) -> str:
    who = _group_words(prop, level, case)
    words = _prop_words(prop)
    others = f"the other {words if words.endswith('s') else words + 's'}"
    rr = c.effect
    if rr is None:
        return f"{who.capitalize()}: too few to compare."
    better = rr >= 1
    if repeat:
        what = f"buy again within a year {'more' if better else 'less'} often"
        rates = f"({pct(rate)} vs {pct(rate0)} for {others})"
    else:
        what = "convert better" if better else ("convert far less" if rr < 0.5 else
                                                "convert less")
        rates = (f"({pct(rate)} of their {pretty(case)}s become a {pretty(st.cat.conversion)} "
                 f"vs {pct(rate0)} for {others}; {rr:.2f}x)")
    text = f"{who[0].upper()}{who[1:]} {what} {rates}"
    words = money_range(c, st.currency)
    if words:
        text += (f". They bring {words} more margin than if they did like the others" if better
                 else f". Worth {words} if they did like the others")
    return text + "."
