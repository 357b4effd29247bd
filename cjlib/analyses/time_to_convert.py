"""Time to convert (DESIGN section 5): per converter, on the attempt counted by the funnel (the
one that reached the furthest step), the time from the entry to each step and from the previous
step; median, p25, p75, p95 and mean; and a Kaplan-Meier curve of the time to the last step,
censored at min(entry + window, data end) for units that did not complete.

Takes the funnel's arguments (window, semantics, order='ordered'|'strict', by, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses.conversion_common import ArgumentError, duration_words
from cjlib.analyses.conversion_stats import kaplan_meier
from cjlib.analyses.funnel import resolve, run
from cjlib.result import Result

STAT_COLUMNS = ("mean_s", "p25_s", "median_s", "p75_s", "p95_s")
STEP_STAT_COLUMNS = ("mean_step_s", "p25_step_s", "median_step_s", "p75_step_s", "p95_step_s")


def time_to_convert(journey: Any, steps: list[Any], **kwargs: Any) -> Result:
    """Quantiles of the time to each step and a Kaplan-Meier curve (see module docstring)."""
    from cjlib.charts.conversion import time_to_convert_chart

    spec = resolve(journey, steps, **kwargs)
    if spec.order == "any":
        raise ArgumentError("time_to_convert needs ordered steps (order='ordered' or 'strict')")
    if spec.n_steps < 2:
        raise ArgumentError("time_to_convert needs at least two steps")
    raw, sql, params = run(journey, spec)
    labels = spec.labels()
    step_rows = raw[(raw["kind"] == "step") & (raw["step"] >= 2)].copy()
    rows = []
    groups = sorted(raw.loc[raw["kind"] == "step", "grp"].unique())
    for grp in groups or ["all"]:
        g = step_rows[step_rows["grp"] == grp].set_index("step")
        for k in range(2, spec.n_steps + 1):
            row: dict[str, Any] = {"grp": grp, "step": k, "step_name": labels[k - 1],
                                   "from_step": labels[k - 2]}
            row["n"] = int(g.at[k, "reached"]) if k in g.index else 0
            for col in STAT_COLUMNS + STEP_STAT_COLUMNS:
                row[col] = float(g.at[k, col]) if k in g.index else np.nan
            rows.append(row)
    df = pd.DataFrame(rows)
    km_raw = raw[raw["kind"] == "km"]
    curves = []
    for grp, g in km_raw.groupby("grp"):
        curve = kaplan_meier(g["km_s"].to_numpy(), g["km_events"].to_numpy(),
                             g["km_censored"].to_numpy())
        curves.append(curve.assign(grp=grp))
    km = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        columns=["t_s", "at_risk", "events", "survival", "se", "survival_low",
                 "survival_high", "grp"])
    if spec.by.kind == "none":
        df = df.drop(columns=["grp"])
    else:
        df = df.rename(columns={"grp": spec.by.name})
    info = {**spec.describe(), "data_end": journey.data_end(),
            "km_resolution_s": params["km_res_s"], "sql_params": params}
    return Result(
        name="time_to_convert",
        df=df,
        sql=sql,
        params=info,
        headline=_headline(df, km, spec),
        chart_fn=time_to_convert_chart,
        tables={"km": km, "raw": raw},
    )


def _headline(df: pd.DataFrame, km: pd.DataFrame, spec: Any) -> str:
    labels = spec.labels()
    last = df[df["step"] == spec.n_steps]
    n = int(last["n"].sum())
    if n == 0:
        return f"Nobody reached {labels[-1]} from {labels[0]} within the window."
    if spec.by.kind == "none":
        row = last.iloc[0]
        text = (f"Half of the {n:,} who reached {labels[-1]} did so within "
                f"{duration_words(row['median_s'])} of {labels[0]} (p25 "
                f"{duration_words(row['p25_s'])}, p75 {duration_words(row['p75_s'])}, p95 "
                f"{duration_words(row['p95_s'])})")
    else:
        text = f"{n:,} reached {labels[-1]}; median time from {labels[0]} by {spec.by.name}: " + \
            ", ".join(f"{r[spec.by.name]} {duration_words(r['median_s'])}"
                      for _, r in last.iterrows() if r["n"] > 0)
    if len(km) and spec.by.kind == "none":
        text += f"; Kaplan-Meier: {1 - km['survival'].iloc[-1]:.0%} converted by the window's end"
    return text + "."
