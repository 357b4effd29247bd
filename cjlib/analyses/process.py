"""Process pain points over cases (case_id): directly-follows durations, variants, rework, the
failure rate of a step (per attempt and per customer), and the dose-response of a duration on
an outcome (e.g. payout delay -> complaints).

`process(j, ...)` dispatches on its arguments: `started=` -> `step_failure`, `outcome=` ->
`dose_response`, otherwise `process_map`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.journey_common import (
    add_wilson,
    as_list,
    fmt_pct,
    grouped_linear_slope,
    grouped_logistic,
    observation_end,
    parse_window,
    unit_seconds,
)
from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

Names = str | list[str] | None


def _human(seconds: float) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "n/a"
    for limit, div, name in ((120, 1, "s"), (7200, 60, "min"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / div:.0f} {name}" if div == 1 else f"{seconds / div:.1f} {name}"
    return f"{seconds / 86400:.1f} days"


def process_map(
    j: Journey,
    case_events: Names = None,
    *,
    kind: Names = None,
    require: str | None = None,
    top: int = 15,
) -> Result:
    """Per case (case_id): directly-follows pairs of steps with count and time between them
    (median, p90, mean seconds) in `df`; `tables`: `variants` (step sequences with case counts
    and case durations), `rework` (cases repeating a step), `summary` (cases, durations).
    Steps in scope: events with a case_id, event in `case_events` and kind in `kind` (None =
    all), e.g. case_events=["complaint_opened", "complaint_resolved"] or kind="complaints";
    `require` keeps only cases containing that event (e.g. require="complaint_opened")."""
    from cjlib.charts.journey import process_chart

    params = {"case_events": as_list(case_events), "kinds": as_list(kind), "require": require,
              "top": int(top)}
    sqls = {name: render(f"process_{name}") for name in ("dfg", "variants", "rework", "summary")}
    frames = {name: j.query(sql, params) for name, sql in sqls.items()}
    rework = frames["rework"]
    rework = add_wilson(rework, "cases_repeated", "cases", rate="rework_rate")
    summary = frames["summary"]
    df = frames["dfg"]
    cases = int(summary.cases.iloc[0]) if len(summary) else 0
    if cases:
        variant = frames["variants"].iloc[0]
        anyrow = rework[rework.step == "(any step)"]
        headline = (f"{cases:,} cases; median case duration "
                    f"{_human(summary.median_s.iloc[0])} (p90 {_human(summary.p90_s.iloc[0])}); "
                    f"most common variant '{variant.variant}' ({fmt_pct(variant.share)}); "
                    f"{fmt_pct(anyrow.rework_rate.iloc[0])} of cases repeat a step.")
        if len(df):
            slow = df.sort_values(["median_s", "n"], ascending=False).iloc[0]
            headline = headline[:-1] + (f"; slowest step {slow.from_step} → {slow.to_step} "
                                        f"(median {_human(slow.median_s)}).")
    else:
        headline = "No cases in scope."
    sql = ";\n\n".join(sqls.values())
    return Result("process", df, sql, params, headline, process_chart,
                  {"variants": frames["variants"], "rework": rework, "summary": summary})


def step_failure(
    j: Journey,
    started: str,
    completed: str,
    *,
    window: str | None = None,
    unit: str = "customer",
    data_end: Any = None,
) -> Result:
    """Failure rate of a step, `started` without `completed`, with Wilson intervals, per attempt,
    per first attempt and per unit (customer or case). An attempt is one `started` event; it
    succeeds when a `completed` event of the same unit follows at or after it and before the
    unit's next `started` (and within `window` when given). Attempts whose window is still open
    at the data end are in progress and left out of the rates."""
    from cjlib.charts.journey import failure_chart

    units = {"customer": "customer_id", "case": "case_id"}
    if unit not in units:
        raise CjError(f"unit must be 'customer' or 'case', not {unit!r}")
    params = {"started": started, "completed": completed, "window": parse_window(window),
              "unit_name": unit, "data_end": observation_end(j, data_end)}
    sql = render("process_failure", unit=units[unit])
    df = j.query(sql, params)
    df = add_wilson(df, "failed", "n", rate="failure_rate")
    att = df[df.level == "attempt"].iloc[0]
    per = df[df.level == unit].iloc[0]
    headline = (f"{started} → {completed} fails on {fmt_pct(att.failure_rate)} of {att.n:,} "
                f"attempts (95% CI {fmt_pct(att.low)}-{fmt_pct(att.high)}); "
                f"{fmt_pct(per.failure_rate)} of {per.n:,} {unit}s never complete it."
                if att.n else f"No finished {started} attempts in the data.")
    return Result("step_failure", df, sql, {**params, "unit": unit}, headline, failure_chart)


def _bin_edges(x: np.ndarray, w: np.ndarray, bins: int | list[float]) -> np.ndarray:
    if not isinstance(bins, int):
        return np.asarray(sorted(bins), dtype=float)
    order = np.argsort(x)
    xs, cw = x[order], np.cumsum(w[order]) / w.sum()
    qs = np.arange(1, bins) / bins
    inner = xs[np.minimum(np.searchsorted(cw, qs, side="left"), len(xs) - 1)]
    return np.unique(np.r_[xs[0], inner])


def _label(a: float, b: float) -> str:
    return f"≥ {a:.3g}" if not np.isfinite(b) else f"{a:.3g}–{b:.3g}"


def dose_response(
    j: Journey,
    start: str,
    end: str,
    outcome: str,
    *,
    within: str = "30d",
    bins: int | list[float] = 5,
    unit: str = "days",
    anchor: str = "start",
    resolution: str = "1h",
    data_end: Any = None,
) -> Result:
    """Outcome rate by the duration of a case, e.g. start="payout_requested",
    end="payout_paid", outcome="complaint_opened", within="30d".

    Per case (case_id): duration = first `end` after the first `start`; outcome = any
    `outcome` event of the customer within `within` of the anchor (`start` or `end`). Durations
    are floored to `resolution` and binned in `unit`: `bins` as edges (e.g. [0, 3, 6, 10];
    values at or above the last edge form an open bin) or a number of quantile bins. Per bin:
    cases, outcomes, rate with Wilson interval. Trend over the unbinned durations: logistic slope
    `b` (log-odds per unit, Wald interval, p-value) and the linear-probability slope `b1`
    (rate change per unit, HC0 robust interval)."""
    from cjlib.charts.journey import dose_chart

    if anchor not in ("start", "end"):
        raise CjError("anchor must be 'start' or 'end'")
    res = parse_window(resolution)
    per = unit_seconds(unit)
    params = {"start": start, "end": end, "outcome": outcome, "within": parse_window(within),
              "anchor_end": anchor == "end", "resolution_s": res.total_seconds(),
              "data_end": observation_end(j, data_end)}
    sql = render("process_dose")
    grouped = j.query(sql, params)
    no_end = grouped[grouped.duration_s.isna()]
    g = grouped[grouped.duration_s.notna() & (grouped.cases > 0)].copy()
    g["x"] = g.duration_s / per
    x, k, n = g.x.to_numpy(float), g.outcomes.to_numpy(float), g.cases.to_numpy(float)
    if len(g):
        edges = _bin_edges(x, n, bins)
        if isinstance(bins, int) or x.max() >= edges[-1]:
            edges = np.r_[edges, np.inf]
        idx = np.searchsorted(edges, x, side="right") - 1
        valid = (idx >= 0) & (idx < len(edges) - 1)
        g = g[valid].assign(bin=idx[valid], xw=lambda d: d.x * d.cases)
        df = g.groupby("bin", as_index=False)[["cases", "outcomes", "xw"]].sum()
        df["mean_duration"] = df.xw / df.cases
        df = df.drop(columns="xw")
        df.insert(0, "duration", [_label(edges[b], edges[b + 1]) for b in df.bin])
        df["low_edge"] = edges[df.bin]
        df["high_edge"] = edges[df.bin + 1]
        df = add_wilson(df.drop(columns="bin"), "outcomes", "cases")
    else:
        df = pd.DataFrame(columns=["duration", "cases", "outcomes", "mean_duration", "low_edge",
                                   "high_edge", "rate", "low", "high"])
    logit = grouped_logistic(x, k, n)
    linear = grouped_linear_slope(x, k, n)
    fitted = {"unit": unit, "logit_a": logit["a"], "logit_b": logit["b"],
              "logit_b_low": logit["b_low"], "logit_b_high": logit["b_high"],
              "odds_ratio_per_unit": float(np.exp(logit["b"])), "p_value": logit["p_value"],
              "linear_b0": linear["b0"], "linear_b1": linear["b1"],
              "linear_b1_low": linear["b1_low"], "linear_b1_high": linear["b1_high"],
              "cases": int(n.sum()), "cases_without_end": int(no_end.cases.sum()),
              "in_progress": int(grouped.in_progress.sum())}
    if len(df) >= 2:
        first, last = df.iloc[0], df.iloc[-1]
        one = unit.rstrip("s")
        headline = (f"{outcome} within {within} rises from {fmt_pct(first.rate)} "
                    f"({first.duration} {unit}) to {fmt_pct(last.rate)} ({last.duration} "
                    f"{unit}) of {start} → {end} duration; each extra {one} adds "
                    f"{100 * linear['b1']:.1f} points (95% CI {100 * linear['b1_low']:.1f} to "
                    f"{100 * linear['b1_high']:.1f}; logistic p = {logit['p_value']:.2g}).")
        if linear["b1"] < 0:
            headline = headline.replace(" rises from ", " falls from ")
    else:
        headline = f"Too few {start} → {end} cases to relate duration to {outcome}."
    return Result("dose_response", df, sql, {**params, **fitted, "bins": bins, "anchor": anchor},
                  headline, dose_chart, {"grouped": grouped})


def process(j: Journey, **kwargs: Any) -> Result:
    """Dispatch: `started=` -> step_failure, `outcome=` -> dose_response, else process_map."""
    if "started" in kwargs:
        return step_failure(j, kwargs.pop("started"), kwargs.pop("completed"), **kwargs)
    if "outcome" in kwargs:
        return dose_response(j, kwargs.pop("start"), kwargs.pop("end"), kwargs.pop("outcome"),
                             **kwargs)
    return process_map(j, **kwargs)
