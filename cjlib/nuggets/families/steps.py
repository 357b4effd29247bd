"""Process steps that fail far more often than the client's other steps: every started/completed
pair of events sharing a stem (`j.process(started=..., completed=...)`).

An attempt completes within 30 days (attempts still inside that window at the data end are in
progress, not failures). Effect: the step's failure rate per attempt over the client's typical
step failure (the median of the other pairs' rates; a step is only compared when there is
another one), with the Wilson interval of the rate carried to the ratio and a one-sided exact
binomial p-value against that benchmark (a step failing less often than typical is no problem,
so it is no discovery either).
Different steps differ by nature, so the floors here are `Rules.min_step_ratio` and
`Rules.min_step_excess`, and only a step failing more often than typical can be a nugget.

Money per year: the margin lost at the step (`j.hotspots([started, completed, conversion])`:
units lost x their conversion had they completed x value per conversion x margin, with its
interval) times the share of failures in excess of the typical rate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cjlib.nuggets.common import (
    NotApplicable,
    ScanState,
    call,
    finite,
    money_range,
    ordered,
    pct,
    per_year,
    pretty,
)
from cjlib.nuggets.model import Candidate

FAMILY = "step_failure"
WINDOW = "30d"  # an attempt still inside it at the data end is in progress, not a failure


def scan(st: ScanState) -> list[Candidate]:
    pairs = st.cat.step_pairs
    if not pairs:
        raise NotApplicable("no started/completed pairs of events (e.g. x_started, x_completed)")
    runs: dict[tuple[str, str], Any] = {}
    out: list[Candidate] = []
    for s, e in pairs:
        kw = {"started": s, "completed": e, "window": WINDOW, "unit": _unit(st, s, e)}
        try:
            runs[(s, e)] = st.run("process", **kw)
        except Exception as exc:
            out.append(Candidate(FAMILY, f"{FAMILY}:{s}:{e}", f"{pretty(s)} -> {pretty(e)}",
                                 call("process", **kw),
                                 untestable=f"analysis failed: {type(exc).__name__}: {exc}"))
    rates = {pair: _attempts(res) for pair, (res, _) in runs.items()}
    for pair, (res, text) in runs.items():
        others = [r for p, (n, f, r) in rates.items() if p != pair and n > 0]
        key = f"{FAMILY}:{pair[0]}:{pair[1]}"
        out.append(st.guard(FAMILY, key, f"{pretty(pair[0])} -> {pretty(pair[1])}", text,
                            lambda pair=pair, res=res, text=text, others=others, key=key:
                            _candidate(st, pair, res, text, others, key)))
    return out


def _unit(st: ScanState, started: str, completed: str) -> str:
    ev = st.cat.events
    both = all(ev.loc[x, "with_case"] >= 0.9 * ev.loc[x, "n"] for x in (started, completed))
    return "case" if both else "customer"


def _attempts(res: Any) -> tuple[int, int, float]:
    row = res.df[res.df["level"] == "attempt"].iloc[0]
    n, failed = int(row["n"]), int(row["failed"])
    return n, failed, (failed / n if n else math.nan)


def _candidate(st: ScanState, pair: tuple[str, str], res: Any, text: str,
               others: list[float], key: str) -> Candidate:
    from scipy.stats import binomtest

    s, e = pair
    row = res.df[res.df["level"] == "attempt"].iloc[0]
    n, failed = int(row["n"]), int(row["failed"])
    subject = f"{pretty(s)} -> {pretty(e)}"
    if not others:
        return Candidate(FAMILY, key, subject, text, result=res,
                         untestable="no other step to compare its failure rate with")
    bench = float(np.median(others))
    rate, low, high = float(row["failure_rate"]), finite(row["low"]), finite(row["high"])
    if n == 0 or bench <= 0:
        return Candidate(FAMILY, key, subject, text, result=res,
                         untestable="no finished attempts" if n == 0 else
                         "the other steps never fail")
    p = binomtest(failed, n, bench, alternative="greater").pvalue  # only failing more matters
    ratio = rate / bench
    r_lo = None if low is None else low / bench
    r_hi = None if high is None else high / bench
    cand = Candidate(
        FAMILY, key, subject, text,
        effect_name="failure rate / typical failure rate of the other steps",
        effect=ratio, low=r_lo, high=r_hi, null=1.0, p_value=float(p),
        groups={"attempts": n}, outcomes=failed, size=ratio,
        floor=st.rules.min_step_ratio, excess=rate - bench, min_excess=st.rules.min_step_excess,
        result=res,
        figures={"failure_rate": (rate, low, high), "benchmark": (bench, None, None)},
    )
    if st.cat.conversion is not None and rate > bench:
        _money(st, cand, s, e, (rate - bench) / rate)
    who = "customers" if res.params.get("unit") == "customer" else "cases"
    head = (f"{pretty(s).capitalize()} -> {pretty(e)} fails for {pct(rate)} of attempts "
            f"({failed:,} of {n:,}), {ratio:.1f}x the {pct(bench)} typical of the other steps")
    words = money_range(cand, st.currency)
    if words:
        head += (f". Worth {words} if it failed no more often than they do "
                 f"({who} lost there x their conversion had they completed it)")
    cand.headline = head + "."
    return cand


def _money(st: ScanState, cand: Candidate, s: str, e: str, excess: float) -> None:
    steps = [s, e, st.cat.conversion]
    res, text = st.run("hotspots", steps)
    rows = res.df[res.df["to_step"] == e]
    if rows.empty or not np.isfinite(rows["money_at_stake"].iloc[0]):
        cand.money_basis = f"{text}: no value per conversion"
        return
    row = rows.iloc[0]
    years = st.cat.years(s)
    m, m_lo, m_hi = per_year(tuple(excess * float(row[c]) for c in (
        "money_at_stake", "money_low", "money_high")), years)
    cand.money, (cand.money_low, cand.money_high) = m, ordered(m_lo, m_hi)
    cand.money_basis = (f"margin lost at the step ({text}) x the {excess:.0%} of failures above "
                        "the typical rate, per year")
    cand.calls.append(text)
