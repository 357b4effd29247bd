"""Funnel conversion through steps (DESIGN section 5; exact rules in docs/funnel-semantics.md).

PostHog semantics by default: every occurrence of step 1 in the date range opens an attempt;
step k counts if it happens at or after step k-1 and within the window from the entry
(inclusive); one event fills at most one step; a unit (customer or case) counts once, at the
furthest step any attempt reached; exclusion events inside an attempt remove it. Units whose
window is still open at the end of the data and who have not completed are `in_progress`, never
drop-outs. `semantics="mixpanel"` / `"amplitude"` switch to those tools' conventions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses import stats
from cjlib.analyses.conversion_common import (
    ArgumentError,
    Property,
    Step,
    customer_columns,
    micros,
    parse_property,
    parse_steps,
    parse_window,
    pct,
    steps_json,
    utc_naive,
)
from cjlib.analyses.sqlfiles import render
from cjlib.result import Result

PRESETS: dict[str, dict[str, str]] = {
    # PostHog: every entry, the attempt that first reached the furthest step (latest entry on
    # ties) is the one shown; breakdown value from the customer's first entry.
    "posthog": {"order": "ordered", "entry": "every", "attempt": "latest",
                "attribution": "first_touch"},
    # Mixpanel (classic): only a unit's first step-1 event in the date range starts the funnel.
    "mixpanel": {"order": "ordered", "entry": "first", "attempt": "earliest",
                 "attribution": "first_touch"},
    # Amplitude: every entry counts, the unit's "earliest-longest" path is the one shown.
    "amplitude": {"order": "ordered", "entry": "every", "attempt": "earliest",
                  "attribution": "first_touch"},
}
CHOICES = {
    "order": ("ordered", "strict", "any"),
    "entry": ("every", "first"),
    "attempt": ("latest", "earliest"),
    "attribution": ("first_touch", "attempt"),
    "unit": ("customer", "case"),
}
UNIT_COLUMN = {"customer": "customer_id", "case": "case_id"}
KM_POINTS = 2000  # resolution of the aggregated Kaplan-Meier durations: window / KM_POINTS


@dataclass(frozen=True)
class FunnelSpec:
    """A fully resolved funnel question."""

    steps: list[Step]
    deadlines: list[timedelta]  # per step, from the entry (step 1: 0)
    unit: str = "customer"
    order: str = "ordered"
    entry: str = "every"
    attempt: str = "latest"
    attribution: str = "first_touch"
    by: Property = field(default_factory=lambda: Property("", "none", "event"))
    exclude: list[Step] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    semantics: str = "posthog"

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def window(self) -> timedelta:
        return self.deadlines[-1]

    def labels(self) -> list[str]:
        if self.order == "any":
            k = self.n_steps
            return [f"{i} of {k} step{'s' if k > 1 else ''}" for i in range(1, k + 1)]
        return [s.label for s in self.steps]

    def describe(self) -> dict[str, Any]:
        return {
            "steps": [s.label for s in self.steps],
            "step_filters": [s.as_param(i + 1) for i, s in enumerate(self.steps)],
            "window": str(self.window),
            "deadlines": [str(d) for d in self.deadlines],
            "unit": self.unit, "order": self.order, "entry": self.entry,
            "attempt": self.attempt, "attribution": self.attribution,
            "by": self.by.name or None,
            "exclude": [s.label for s in self.exclude],
            "start": self.start, "end": self.end, "semantics": self.semantics,
        }


def resolve(
    journey: Any,
    steps: list[Any],
    *,
    window: str | timedelta | float = "30d",
    step_windows: list[str | timedelta | float] | None = None,
    unit: str = "customer",
    by: str | None = None,
    order: str | None = None,
    entry: str | None = None,
    attempt: str | None = None,
    attribution: str | None = None,
    exclude: list[Any] | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    semantics: str = "posthog",
) -> FunnelSpec:
    """Check the arguments of a funnel question and fill in the preset's choices."""
    if semantics not in PRESETS:
        raise ArgumentError(f"semantics={semantics!r}: choose one of {', '.join(PRESETS)}")
    preset = PRESETS[semantics]
    chosen = {
        "order": order or preset["order"], "entry": entry or preset["entry"],
        "attempt": attempt or preset["attempt"],
        "attribution": attribution or preset["attribution"], "unit": unit,
    }
    for key, value in chosen.items():
        if value not in CHOICES[key]:
            raise ArgumentError(f"{key}={value!r}: choose one of {', '.join(CHOICES[key])}")
    parsed = parse_steps(steps)
    base = parse_window(window)
    if step_windows is not None:
        if len(step_windows) != len(parsed) - 1:
            raise ArgumentError(
                f"step_windows: give one deadline per step after the first "
                f"({len(parsed) - 1}), got {len(step_windows)}"
            )
        later = [parse_window(w, "step_windows") for w in step_windows]
        if any(b < a for a, b in itertools.pairwise(later)):
            raise ArgumentError("step_windows: deadlines (from the entry) must not decrease")
        if chosen["order"] == "any":
            raise ArgumentError("step_windows need ordered steps (order='ordered' or 'strict')")
    else:
        later = [base] * (len(parsed) - 1)
    excluded = parse_steps(exclude, "exclude") if exclude else []
    if excluded and chosen["order"] == "any":
        raise ArgumentError("exclude= needs ordered steps (order='ordered' or 'strict')")
    return FunnelSpec(
        steps=parsed,
        deadlines=[timedelta(0), *later] if later else [base],
        by=parse_property(by, customer_columns(journey)),
        exclude=excluded,
        start=utc_naive(start),
        end=utc_naive(end),
        semantics=semantics,
        **chosen,
    )


def run(journey: Any, spec: FunnelSpec, *, detail: bool = True
        ) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    """Run the funnel query: the raw per-(group, step) rows, the SQL and its parameters.

    `detail`: also the times and values of the counted attempts' steps and the Kaplan-Meier
    durations (about a third of the work on large data)."""
    by = spec.by
    name = "funnel_any" if spec.order == "any" else "funnel"
    sql = render(
        name,
        parts={"chain": chain_sql(spec)} if name == "funnel" else None,
        unit=UNIT_COLUMN[spec.unit],
        by_col=by.column if by.kind == "event" else "event",
        by_ccol=by.column if by.kind == "customer" else "customer_id",
    )
    window_s = spec.window.total_seconds()
    params: dict[str, Any] = {
        "steps": steps_json(spec.steps),
        "exclude": steps_json(spec.exclude),
        "has_exclusions": bool(spec.exclude),
        "plain_steps": not any(step.conds for step in spec.steps),
        "n_steps": spec.n_steps,
        "win_us": [micros(d) for d in spec.deadlines],
        "window": spec.window,
        "order": spec.order,
        "entry": spec.entry,
        "attempt": spec.attempt,
        "attribution": spec.attribution,
        "by_kind": by.kind,
        "by_path": by.path,
        "start": spec.start,
        "end": spec.end,
        "km_res_s": max(1.0, window_s / KM_POINTS),
        "detail": detail,
    }
    raw = journey.query(sql, params)
    return raw, sql, params


def chain_sql(spec: FunnelSpec) -> str:
    """The CTEs that build each attempt's chain of steps (`chain`, `attempts`) for funnel.sql.

    When the steps are ordered and all different event names, no event can fill two steps and
    each next step is found by an as-of join (funnel_chain_asof*.sql, several times faster on
    large data); otherwise the general recursive chain (funnel_chain_general.sql)."""
    distinct = len({step.event for step in spec.steps}) == spec.n_steps
    if spec.order != "ordered" or not distinct:
        return render("funnel_chain_general")
    steps = [
        render("funnel_chain_asof_step", this=f"reach_{k}", prev=f"reach_{k - 1}", k=k,
               parts={"next": render("funnel_chain_asof_first") if k == 2
                      else render("funnel_chain_asof_next", k=k)})
        for k in range(2, spec.n_steps + 1)
    ]
    rows = "UNION ALL\n".join(render("funnel_chain_asof_rows", reach=f"reach_{k}")
                             for k in range(1, spec.n_steps + 1))
    return render("funnel_chain_asof", parts={"steps": "\n\n".join(steps), "chain_rows": rows},
                  last=f"reach_{spec.n_steps}")


def step_table(raw: pd.DataFrame, spec: FunnelSpec) -> pd.DataFrame:
    """Per (group, step): entered, reached, dropped, in_progress, and rates with Wilson CIs."""
    rows = raw[raw["kind"] == "step"]
    labels = spec.labels()
    groups = sorted(rows["grp"].unique()) if len(rows) else ["all"]
    out = []
    for grp in groups:
        g = rows[rows["grp"] == grp].set_index("step")
        k = np.arange(1, spec.n_steps + 1)
        reached = g["reached"].reindex(k).fillna(0).to_numpy(dtype=np.int64)
        s_open = g["stopped_open"].reindex(k).fillna(0).to_numpy(dtype=np.int64)
        s_closed = g["stopped_closed"].reindex(k).fillna(0).to_numpy(dtype=np.int64)
        entered = np.r_[reached[:1], reached[:-1]]
        in_progress = np.r_[0, s_open[:-1]]
        dropped = np.r_[0, s_closed[:-1]]
        frame = pd.DataFrame({
            "grp": grp, "step": k, "step_name": labels, "entered": entered,
            "reached": reached, "dropped": dropped, "in_progress": in_progress,
        })
        for col in ("value_sum", "value_n", "median_s"):
            frame[col] = g[col].reindex(k).to_numpy(dtype=float) if col in g else np.nan
        out.append(frame)
    df = pd.concat(out, ignore_index=True)
    first = df.groupby("grp")["reached"].transform("first")
    df["rate_overall"] = np.where(first > 0, df["reached"] / first.where(first > 0, 1), np.nan)
    df["rate_overall_low"], df["rate_overall_high"] = stats.wilson(df["reached"], first)
    df["rate_step"] = np.where(df["entered"] > 0,
                               df["reached"] / df["entered"].where(df["entered"] > 0, 1), np.nan)
    df["rate_step_low"], df["rate_step_high"] = stats.wilson(df["reached"], df["entered"])
    df["value_mean"] = df["value_sum"] / df["value_n"].where(df["value_n"] > 0)
    df = df.drop(columns=["value_sum", "value_n"])
    return df


def funnel(journey: Any, steps: list[Any], *, detail: bool = False, **kwargs: Any) -> Result:
    """Conversion through `steps` (see the module docstring and docs/funnel-semantics.md).

    Arguments: window="30d", step_windows=None (deadline per later step, from the entry),
    unit="customer"|"case", by=None (events column, "customer.<col>" or "attrs.<key>"),
    order="ordered"|"strict"|"any", entry="every"|"first", attempt="latest"|"earliest",
    attribution="first_touch"|"attempt", exclude=[steps], start=, end= (entry date range),
    semantics="posthog"|"mixpanel"|"amplitude"; detail=True adds each step's median time from
    the entry and mean value (time_to_convert and hotspots give more).
    """
    from cjlib.charts.conversion import funnel_chart

    spec = resolve(journey, steps, **kwargs)
    raw, sql, params = run(journey, spec, detail=detail)
    df = step_table(raw, spec)
    if not detail:
        df = df.drop(columns=["median_s", "value_mean"])
    excluded = raw.loc[raw["kind"] == "excluded", "reached"]
    n_excluded = int(excluded.iloc[0]) if len(excluded) else 0
    if spec.by.kind == "none":
        df = df.drop(columns=["grp"])
    else:
        df = df.rename(columns={"grp": spec.by.name})
    total = _totals(df, spec)
    info = {**spec.describe(), "data_end": journey.data_end(), "excluded_units": n_excluded,
            "sql_params": params}
    return Result(
        name="funnel",
        df=df,
        sql=sql,
        params=info,
        headline=headline(total, df, spec, n_excluded),
        chart_fn=funnel_chart,
        tables={"total": total, "raw": raw},
    )


def _totals(df: pd.DataFrame, spec: FunnelSpec) -> pd.DataFrame:
    """The funnel over all groups (the df itself when there is no breakdown)."""
    if spec.by.kind == "none":
        return df
    counts = df.groupby(["step", "step_name"], as_index=False)[
        ["entered", "reached", "dropped", "in_progress"]].sum()
    first = counts["reached"].iloc[0] if len(counts) else 0
    counts["rate_overall"] = counts["reached"] / first if first else np.nan
    counts["rate_overall_low"], counts["rate_overall_high"] = stats.wilson(
        counts["reached"], np.full(len(counts), first))
    counts["rate_step"] = counts["reached"] / counts["entered"].where(counts["entered"] > 0)
    counts["rate_step_low"], counts["rate_step_high"] = stats.wilson(
        counts["reached"], counts["entered"])
    return counts


def headline(total: pd.DataFrame, df: pd.DataFrame, spec: FunnelSpec, n_excluded: int) -> str:
    """One sentence: entrants, completers with interval, the biggest drop, the open ones."""
    noun = "customers" if spec.unit == "customer" else "cases"
    if total.empty or total["reached"].iloc[0] == 0:
        return f"No {noun} entered the funnel at {spec.labels()[0]}."
    n1 = int(total["reached"].iloc[0])
    last = total.iloc[-1]
    if spec.n_steps == 1:
        return f"{n1:,} {noun if n1 != 1 else noun[:-1]} did {spec.labels()[0]}."
    text = (f"{n1:,} {noun if n1 != 1 else noun[:-1]} entered at {spec.labels()[0]}; "
            f"{int(last['reached']):,} "
            f"({pct(last['rate_overall'], 1)}, 95% CI {pct(last['rate_overall_low'], 1)}-"
            f"{pct(last['rate_overall_high'], 1)}) reached {spec.labels()[-1]}"
            f" within {_window_words(spec.window)}")
    if len(total) > 2:
        later = total.iloc[1:]
        worst = later.loc[later["rate_step"].fillna(1).idxmin()]
        prev = total.loc[total["step"] == worst["step"] - 1, "step_name"].iloc[0]
        if worst["rate_step"] < 1:
            text += (f"; the biggest drop is {prev} -> {worst['step_name']} "
                     f"({pct(1 - worst['rate_step'])} lost)")
    open_units = int(total["in_progress"].sum())
    if open_units:
        text += f"; {open_units:,} still in progress"
    if n_excluded:
        text += f"; {n_excluded:,} excluded"
    if spec.by.kind != "none":
        text += _breakdown_words(df, spec)
    return text + "."


def _breakdown_words(df: pd.DataFrame, spec: FunnelSpec) -> str:
    col = spec.by.name
    final = df[df["step"] == spec.n_steps]
    final = final[df.loc[final.index, "entered"] > 0]
    entrants = df[df["step"] == 1].set_index(col)["reached"]
    final = final[final[col].map(entrants) >= 30] if (entrants >= 30).any() else final
    if len(final) < 2:
        return ""
    best = final.loc[final["rate_overall"].idxmax()]
    worst = final.loc[final["rate_overall"].idxmin()]
    return (f"; by {col}: best {best[col]} ({pct(best['rate_overall'])}), "
            f"worst {worst[col]} ({pct(worst['rate_overall'])})")


def _window_words(window: timedelta) -> str:
    seconds = window.total_seconds()
    if seconds % 86400 == 0:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} hours"
    return f"{seconds / 60:g} minutes"
