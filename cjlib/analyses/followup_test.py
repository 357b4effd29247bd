"""Follow-up tests (DESIGN section 5): conversion per arm with Wilson intervals, the lift of each
arm over the control with a Newcombe interval and a two-proportion p-value, then money:
incremental margin per contact (lift x value per conversion x gross margin minus the extra
contact cost), cost per incremental conversion and the break-even contact cost.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses import stats
from cjlib.analyses.conversion_common import (
    ArgumentError,
    json_path,
    micros,
    money,
    parse_step,
    parse_window,
    pct,
)
from cjlib.analyses.sqlfiles import render
from cjlib.result import Result


def followup_test(
    journey: Any,
    *,
    arm_attr: str = "arm",
    campaign: str | None = None,
    case_event: str | dict[str, Any] | None = "quote",
    conversion_event: str | dict[str, Any] = "purchase",
    window: str | Any = "30d",
    costs: dict[str, float] | None = None,
    value_per_conversion: float | None = None,
    control: str | None = None,
    assign_event: str | None = None,
) -> Result:
    """Compare the arms of a follow-up test on conversion and on margin after contact costs.

    Arms come from `attrs.<arm_attr>` of assignment events (optionally only `assign_event`, and
    only those of `campaign`: matched against source, attrs.campaign or attrs.campaign_code).
    `costs`: per-contact cost per arm (default: mean `cost` of each arm's assignment events).
    `value_per_conversion`: default the mean `value` of the converting events of test cases.
    `control`: default the arm cheapest to contact.
    """
    from cjlib.charts.conversion import followup_chart

    win = parse_window(window)
    conv = parse_step(conversion_event, "conversion_event")
    defs = [{"role": "conversion", **_def(conv)}]
    if case_event is not None:
        defs.append({"role": "case", **_def(parse_step(case_event, "case_event"))})
    params = {"defs": json.dumps(defs), "arm_path": json_path(arm_attr), "campaign": campaign,
              "assign_event": assign_event, "win_us": micros(win)}
    sql = render("followup")
    arms = journey.query(sql, params)
    currency, margin = journey.currency, journey.gross_margin
    if arms.empty:
        return Result("followup_test", arms, sql, {"sql_params": params},
                      f"No events carry attrs.{arm_attr}: no test arms found.", followup_chart)
    cost = arms["cost_mean"].astype(float).to_numpy()
    if costs:
        unknown = set(costs) - set(arms["arm"])
        if unknown:
            raise ArgumentError(f"costs: no arm(s) {sorted(unknown)}; arms are {list(arms['arm'])}")
        cost = np.array([costs.get(a, c) for a, c in zip(arms["arm"], cost, strict=True)],
                        dtype=float)
    cost = np.nan_to_num(cost, nan=0.0)
    value_n = float(arms["value_n"].fillna(0).sum())
    value = value_per_conversion if value_per_conversion is not None else (
        float(arms["value_sum"].fillna(0).sum()) / value_n if value_n else np.nan)
    if control is None:
        control = arms["arm"].iloc[int(np.argmin(cost))] if len(set(cost)) > 1 else \
            arms["arm"].iloc[0]
    if control not in set(arms["arm"]):
        raise ArgumentError(f"control={control!r}: arms are {list(arms['arm'])}")
    df = _table(arms, cost, value, margin, control)
    info = {"arm_attr": arm_attr, "campaign": campaign, "case_event": case_event,
            "conversion_event": conv.label, "window": str(win), "control": control,
            "value_per_conversion": value, "gross_margin": margin, "currency": currency,
            "costs": dict(zip(df["arm"], df["cost_per_contact"], strict=True)),
            "mixed_cases": int(arms["mixed_cases"].sum()), "sql_params": params}
    return Result(
        name="followup_test",
        df=df,
        sql=sql,
        params=info,
        headline=_headline(df, control, currency),
        chart_fn=followup_chart,
        tables={"arms": arms},
    )


def _table(arms: pd.DataFrame, cost: np.ndarray, value: float, margin: float,
           control: str) -> pd.DataFrame:
    n = arms["cases"].to_numpy(dtype=float)
    k = arms["conversions"].to_numpy(dtype=float)
    low, high = stats.wilson(k, n)
    df = pd.DataFrame({
        "arm": arms["arm"], "cases": arms["cases"], "conversions": arms["conversions"],
        "rate": np.where(n > 0, k / np.where(n > 0, n, 1), np.nan), "rate_low": low,
        "rate_high": high, "cost_per_contact": cost, "is_control": arms["arm"] == control,
    })
    c = df.index[df["is_control"]][0]
    k0, n0, cost0 = k[c], n[c], cost[c]
    per_unit = value * margin  # margin per conversion
    rows = []
    for i in range(len(df)):
        if i == c:
            rows.append({})
            continue
        lift, lo, hi = stats.diff_interval(k[i], n[i], k0, n0)
        pooled = k[i] + k0
        degenerate = pooled == 0 or pooled == n[i] + n0  # nobody or everybody converted
        p = np.nan if degenerate else stats.two_proportion_test(k[i], n[i], k0, n0)[1]
        extra = cost[i] - cost0
        row = {
            "lift": lift, "lift_low": lo, "lift_high": hi, "p_value": p,
            "incremental_margin_per_contact": lift * per_unit - extra,
            "incremental_margin_low": lo * per_unit - extra,
            "incremental_margin_high": hi * per_unit - extra,
            "cost_per_incremental_conversion": extra / lift if lift > 0 else np.nan,
            "break_even_cost": cost0 + lift * per_unit,
        }
        row["incremental_margin_total"] = row["incremental_margin_per_contact"] * n[i]
        rows.append(row)
    return pd.concat([df, pd.DataFrame(rows, index=df.index)], axis=1)


def _headline(df: pd.DataFrame, control: str, currency: str) -> str:
    others = df[~df["is_control"]]
    base = df[df["is_control"]].iloc[0]
    if others.empty:
        return f"Only one arm ({control}) found: nothing to compare."
    best = others.loc[others["incremental_margin_per_contact"].fillna(-np.inf).idxmax()]
    inc = best["incremental_margin_per_contact"]
    extra = best["cost_per_contact"] - base["cost_per_contact"]
    p = best["p_value"]
    p_words = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    rates = (f"conversion {pct(best['rate'], 1)} vs {pct(base['rate'], 1)} "
             f"(lift {100 * best['lift']:+.1f} points, 95% CI {100 * best['lift_low']:+.1f} to "
             f"{100 * best['lift_high']:+.1f}, {p_words})")
    if not np.isfinite(inc):
        return f"{best['arm']} vs {control}: {rates}; no value per conversion, so no money."
    interval = (f"95% CI {money(best['incremental_margin_low'], currency, 2)} to "
                f"{money(best['incremental_margin_high'], currency, 2)}")
    cost_words = (f"despite its {money(extra, currency, 2)} higher contact cost" if extra > 0
                  else f"with a {money(-extra, currency, 2)} lower contact cost" if extra < 0
                  else "at the same contact cost")
    if inc > 0:
        return (f"{best['arm']} wins on margin over {control}: "
                f"{money(inc, currency, 2)} more margin per contact ({interval}) {cost_words}; "
                f"{rates}; break-even contact cost {money(best['break_even_cost'], currency, 2)}.")
    return (f"{control} wins on margin: {best['arm']} loses {money(-inc, currency, 2)} per "
            f"contact ({interval}) after its contact cost; {rates}.")


def _def(step: Any) -> dict[str, Any]:
    p = step.as_param(0)
    return {"event": p["event"], "conds": p["conds"]}
