"""Retention and lifecycle: cohort retention, lifecycle states per period, journey phases.

Retention (DESIGN section 5): cohort by first (or any) start event; calendar periods (day, ISO
week from Monday, month) in the client's time zone, or rolling periods (24 h or 7 d) from each
customer's own start; "on" (returned in period k) and "on or after" (returned in k or later);
period 0 = 100%; a period not fully elapsed by the data end is flagged incomplete and its rate is
left empty (`rate_so_far` keeps the partial figure), so it is never shown as a drop.

Lifecycle states per period (PostHog / Amplitude lifecycle): new (first period ever active),
returning (active in this and the previous period), resurrecting (active now, not in the
previous period, but earlier), dormant (active in the previous period, not in this one; shown
negative in the chart). Quick ratio = (new + resurrecting) / dormant.

Phases: runs of the same events.phase per customer, transitions between phases and dwell time
(entry to the next phase's entry; a customer's last run is open and only counted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.journey_common import add_wilson, fmt_pct, observation_end
from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

PERIODS = ("day", "week", "month")
DEFAULT_MAX_PERIODS = {"day": 31, "week": 26, "month": 24}
ROLLING_SECONDS = {"day": 86400, "week": 7 * 86400}
ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly"}
PHASES = ("awareness", "consideration", "purchase", "retention", "advocacy")


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise CjError(f"period must be one of {PERIODS}, not {period!r}")


def retention(
    j: Journey,
    start_event: str | None = None,
    return_event: str | None = None,
    *,
    cohort: str = "first",
    period: str = "week",
    rolling: bool = False,
    mode: str = "on",
    max_periods: int | None = None,
    data_end: Any = None,
) -> Result:
    """Cohort retention table: one row per cohort and period k with cohort_size, retained ("on"),
    retained_on_or_after, eligible (members for whom period k is complete), `complete`, and
    `rate` (the chosen `mode`: "on" or "on_or_after"), `rate_on`, `rate_on_or_after` (NaN when
    incomplete) and `rate_so_far` (partial). tables["curve"] pools complete cells per period
    (Wilson intervals).

    start_event / return_event: None = any event. cohort: "first" (first start) or "any"
    (recurring: one membership per period with a start). period: day, week or month, calendar in
    `j.settings.timezone`; rolling=True: 24 h / 7 d periods from each customer's start."""
    from cjlib.charts.journey import retention_chart

    _check_period(period)
    if cohort not in ("first", "any"):
        raise CjError("cohort must be 'first' or 'any'")
    if mode not in ("on", "on_or_after"):
        raise CjError("mode must be 'on' or 'on_or_after'")
    if rolling and period not in ROLLING_SECONDS:
        raise CjError("rolling periods are 'day' (24 h) or 'week' (7 x 24 h)")
    end = observation_end(j, data_end)
    params = {"start_event": start_event, "return_event": return_event,
              "first": cohort == "first", "period": period, "rolling": rolling,
              "period_s": ROLLING_SECONDS.get(period, 0), "tz": j.settings.timezone,
              "data_end": end,
              "max_periods": int(max_periods or DEFAULT_MAX_PERIODS[period])}
    sql = render("retention")
    df = j.query(sql, params)
    df["complete"] = df.eligible == df.cohort_size
    size = df.cohort_size.where(df.cohort_size > 0)
    df["rate_so_far"] = df.retained / size
    df["rate_on"] = (df.retained / size).where(df.complete)
    df["rate_on_or_after"] = (df.retained_on_or_after / size).where(df.complete)
    df.loc[df.period == 0, ["rate_on", "rate_on_or_after"]] = 1.0
    df["rate"] = df["rate_on" if mode == "on" else "rate_on_or_after"]
    column = "retained" if mode == "on" else "retained_on_or_after"
    done = df[df.complete]
    curve = done.groupby("period", as_index=False).agg(
        cohorts=("cohort", "count"), customers=("cohort_size", "sum"), retained=(column, "sum"))
    curve = add_wilson(curve, "retained", "customers")
    what = f"{return_event or 'any event'} after {start_event or 'first activity'}"
    cohorts = df.drop_duplicates("cohort")
    if len(curve) > 1:
        k = 1 if len(curve) < 5 else min(4, int(curve.period.max()))
        row = curve[curve.period == k].iloc[0]
        headline = (f"{cohorts.cohort_size.sum():,} customers in {len(cohorts)} "
                    f"{ADJECTIVE[period]} cohorts; {fmt_pct(row.rate)} are back ({what}, "
                    f"{mode.replace('_', ' ')}) "
                    f"in {period} {k} (95% CI {fmt_pct(row.low)}-{fmt_pct(row.high)}, "
                    f"{int(row.cohorts)} complete cohorts).")
    else:
        headline = f"{cohorts.cohort_size.sum():,} customers; no complete period after period 0."
    return Result("retention", df, sql, {**params, "cohort": cohort, "mode": mode},
                  headline, retention_chart, {"curve": curve})


def lifecycle(
    j: Journey,
    event: str | None = None,
    *,
    period: str = "week",
    data_end: Any = None,
) -> Result:
    """Lifecycle states per calendar period (new, returning, resurrecting, dormant; see the
    module docstring): `df` has one row per period and state with `customers` and `complete`;
    tables["wide"] has a column per state, active = new + returning + resurrecting, and the
    quick ratio (new + resurrecting) / dormant."""
    from cjlib.charts.journey import lifecycle_chart

    _check_period(period)
    params = {"event": event, "period": period, "tz": j.settings.timezone,
              "data_end": observation_end(j, data_end)}
    sql = render("lifecycle")
    df = j.query(sql, params)
    wide = df.pivot_table(index=["period_start", "complete"], columns="state",
                          values="customers", aggfunc="sum", fill_value=0).reset_index()
    wide.columns.name = None
    for state in ("new", "returning", "resurrecting", "dormant"):
        if state not in wide:
            wide[state] = 0
    wide["active"] = wide.new + wide.returning + wide.resurrecting
    with np.errstate(divide="ignore", invalid="ignore"):
        wide["quick_ratio"] = np.where(wide.dormant > 0,
                                       (wide.new + wide.resurrecting) / wide.dormant, np.nan)
    full = wide[wide.complete]
    if len(full):
        last = full.iloc[-1]
        headline = (f"In the last complete {period} ({last.period_start:%Y-%m-%d}) "
                    f"{last.active:,} customers were active: {last.new:,} new, "
                    f"{last.returning:,} returning, {last.resurrecting:,} resurrecting; "
                    f"{last.dormant:,} went dormant (quick ratio {last.quick_ratio:.2f}).")
    else:
        headline = f"No complete {period} in the data yet."
    return Result("lifecycle", df, sql, params, headline, lifecycle_chart, {"wide": wide})


def phases(j: Journey, *, order: tuple[str, ...] | list[str] = PHASES) -> Result:
    """Journey phases: per phase customers reached (share), runs, dwell time (median, p90, mean
    seconds over runs that moved on; open runs counted) in `df`; tables["transitions"] holds the
    phase transition matrix (runs collapsed, '(start)' / '(end)' added) with row probabilities
    and a `direction` (forward / back by `order`)."""
    from cjlib.analyses.paths import transitions
    from cjlib.charts.journey import phases_chart

    sql = render("phases")
    df = j.query(sql, {})
    rank = {p: i for i, p in enumerate(order)}
    df["order"] = df.phase.map(lambda p: rank.get(p, len(rank)))
    df = df.sort_values(["order", "phase"]).drop(columns="order").reset_index(drop=True)
    df["reach"] = df.customers / df.all_customers
    trans = transitions(j, "phase", collapse=True, start_end=True)
    tdf = trans.df.copy()
    src = tdf.from_state.map(rank)
    dst = tdf.to_state.map(rank)
    tdf["direction"] = np.select([src.isna() | dst.isna(), dst > src], ["", "forward"], "back")
    if len(df):
        slow = df.loc[df.median_dwell_s.idxmax()] if df.median_dwell_s.notna().any() else None
        back = tdf[tdf.direction == "back"].n.sum()
        moves = tdf[tdf.direction != ""].n.sum()
        headline = (f"{int(df.all_customers.iloc[0]):,} customers across {len(df)} phases; "
                    + (f"longest median dwell in {slow.phase} "
                       f"({slow.median_dwell_s / 86400:.1f} days); " if slow is not None else "")
                    + f"{fmt_pct(back / moves if moves else np.nan)} of phase moves go back.")
    else:
        headline = "No events carry a phase."
    return Result("phases", df, f"{sql};\n\n{trans.sql}", {"order": list(order)}, headline,
                  phases_chart, {"transitions": tdf})


def wide_retention(result: Result, column: str = "rate") -> pd.DataFrame:
    """The retention table as a cohort x period grid of `column` (for display)."""
    return result.df.pivot(index="cohort", columns="period", values=column)
