"""Retention breaks: a quarter's cohort of first buyers that comes back more or less often than
the others (`j.retention(start_event=conversion, return_event=conversion, period="month")`).

Monthly cohorts are pooled into calendar quarters (sums of the analysis' counts; a month counts
only where period `PERIOD` is complete). Rate: buyers back in month `PERIOD` after their first
purchase ("on", comparable across cohorts, unlike "on or after" which grows with the time left
to the data end). Each quarter against the others: risk ratio (Katz), two-proportion p-value.
Money per year: the quarter's gap x its buyers x margin per repeat purchase, four quarters a
year (what the break is worth if it persists).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cjlib.analyses import stats
from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    finite,
    fold,
    money_range,
    ordered,
    pct,
    pretty,
    rate_figure,
)
from cjlib.nuggets.model import Candidate

FAMILY = "retention"
PERIOD = 3


def scan(st: ScanState) -> list[Candidate]:
    conv = st.cat.conversion
    if conv is None:
        raise NotApplicable("no conversion event (no kind 'orders' or phase 'purchase')")
    res, text = st.run("retention", start_event=conv, return_event=conv, period="month")
    df = res.df
    at = df[(df["period"] == PERIOD) & df["complete"]].copy()
    if at.empty:
        raise NotApplicable(f"no cohort has a complete month {PERIOD}")
    at["quarter"] = pd.to_datetime(at["cohort"]).dt.to_period("Q").astype(str)
    table = at.groupby("quarter")[["cohort_size", "retained"]].sum()
    if len(table) < 2:
        raise NotApplicable("fewer than two quarters of complete cohorts")
    value, basis = st.repeat_value()
    out = []
    for quarter in table.index:
        key = f"{FAMILY}:{conv}:{quarter}"
        subject = f"{quarter} {pretty(conv)} cohort"
        out.append(st.guard(FAMILY, key, subject, text,
                            lambda q=quarter, key=key, subject=subject: _candidate(
                                st, res, text, table, q, key, subject, value, basis)))
    return out


def _candidate(st: ScanState, res: object, text: str, table: pd.DataFrame, quarter: str,
               key: str, subject: str, value: float | None, basis: str) -> Candidate:
    n1, k1 = int(table.at[quarter, "cohort_size"]), int(table.at[quarter, "retained"])
    rest = table.drop(index=quarter)
    n0, k0 = int(rest["cohort_size"].sum()), int(rest["retained"].sum())
    rr, lo, hi = (finite(x) for x in stats.risk_ratio(k1, n1, k0, n0))
    pooled = (k1 + k0) / (n1 + n0) if n1 + n0 else 0
    p = stats.two_proportion_test(k1, n1, k0, n0)[1] if 0 < pooled < 1 else np.nan
    p0 = k0 / n0 if n0 else np.nan
    amounts = tuple(None if r is None or value is None else 4 * n1 * p0 * abs(r - 1) * value
                    for r in (rr, lo, hi))
    m_lo, m_hi = ordered(amounts[1], amounts[2])
    cand = Candidate(
        FAMILY, key, subject, text,
        effect_name=f"share back in month {PERIOD}, ratio vs the other quarters",
        effect=rr, low=lo, high=hi, null=1.0, p_value=finite(p),
        groups={quarter: n1, "other quarters": n0}, outcomes=k1 + k0, size=fold(rr),
        floor=1 + st.rules.min_change, money=amounts[0], money_low=m_lo, money_high=m_hi,
        money_basis=f"gap x buyers, four quarters a year x {basis}", result=res,
        figures={"ratio": (rr, lo, hi), "rate": rate_figure(k1, n1),
                 "rate_others": rate_figure(k0, n0)},
    )
    if not 0 < pooled < 1:
        cand.untestable = "no one or everyone came back: nothing to compare"
    if rr is not None:
        word = "more" if rr >= 1 else "fewer"
        cand.headline = (f"{pct(k1 / n1 if n1 else None)} of {quarter}'s first buyers bought "
                         f"again in month {PERIOD} vs {pct(p0)} of the other quarters' ({word} "
                         f"come back: {rr:.2f}x)")
        words = money_range(cand, st.currency)
        if words:
            cand.headline += f". Worth {words} if the break persists"
        cand.headline += "."
    return cand
