"""Drop-out hot-spots (DESIGN section 5): for each step of a funnel, the units lost there, their
share of all drop-outs, and the money at stake:

    lost x (conversion from that step to the end) x value per conversion x gross margin

The downstream conversion is measured on units that reached the step and whose fate is known
(completed, or dropped later; in-progress units are left out), with a Wilson interval carried
through to the money. Value per conversion: `value_per_conversion=`, else the mean `value` of
the events that filled the final step. Ranked by money (by expected conversions when there is
no value). Takes the funnel's arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses import stats
from cjlib.analyses.conversion_common import money, pct
from cjlib.analyses.funnel import resolve, run, step_table
from cjlib.result import Result


def hotspots(
    journey: Any, steps: list[Any], *, value_per_conversion: float | None = None, **kwargs: Any
) -> Result:
    """Lost units and margin at stake per funnel step, ranked (see module docstring)."""
    from cjlib.charts.conversion import hotspot_chart

    spec = resolve(journey, steps, **kwargs)
    raw, sql, params = run(journey, spec)
    table = step_table(raw, spec)
    final = table[table["step"] == spec.n_steps]
    value_n = final["value_mean"].notna() & (final["reached"] > 0)
    mean_value = float((final["value_mean"] * final["reached"])[value_n].sum()
                       / final["reached"][value_n].sum()) if value_n.any() else np.nan
    value = float(value_per_conversion) if value_per_conversion is not None else mean_value
    margin = journey.gross_margin
    df = pd.concat([_transitions(g, spec.n_steps, value, margin)
                    for _, g in table.groupby("grp", sort=True)], ignore_index=True)
    if df.empty:
        df = pd.DataFrame(columns=["grp", "from_step", "to_step", "lost", "money_at_stake"])
    total_lost = df["lost"].sum()
    df["share_of_lost"] = df["lost"] / total_lost if total_lost else np.nan
    key = "money_at_stake" if np.isfinite(value) else "conversions_lost"
    df = df.sort_values(key, ascending=False, na_position="last").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    if spec.by.kind == "none":
        df = df.drop(columns=["grp"])
    else:
        df = df.rename(columns={"grp": spec.by.name})
    info = {**spec.describe(), "value_per_conversion": value, "value_source": (
        "argument" if value_per_conversion is not None else "mean value of the final step"),
        "gross_margin": margin, "currency": journey.currency, "sql_params": params}
    return Result(
        name="hotspots",
        df=df,
        sql=sql,
        params=info,
        headline=_headline(df, spec, journey.currency, value),
        chart_fn=hotspot_chart,
        tables={"funnel": table, "raw": raw},
    )


def _transitions(g: pd.DataFrame, n_steps: int, value: float, margin: float) -> pd.DataFrame:
    g = g.sort_values("step").reset_index(drop=True)
    reached = g["reached"].to_numpy()
    in_progress = g["in_progress"].to_numpy()
    rows = []
    for k in range(2, n_steps + 1):  # the transition into step k
        i = k - 1
        # units that reached step k with a known fate: minus those still open further on
        decided = reached[i] - in_progress[i + 1:].sum()
        finished = reached[-1]
        rate = finished / decided if decided > 0 else np.nan
        low, high = stats.wilson(finished, decided)
        lost = int(g.at[i, "dropped"])
        rows.append({
            "grp": g.at[i, "grp"], "step": k, "from_step": g.at[i - 1, "step_name"],
            "to_step": g.at[i, "step_name"], "reached_from": int(reached[i - 1]), "lost": lost,
            "in_progress": int(in_progress[i]),
            "downstream_rate": rate, "downstream_low": float(low), "downstream_high": float(high),
            "conversions_lost": lost * rate,
            "money_at_stake": lost * rate * value * margin,
            "money_low": lost * float(low) * value * margin,
            "money_high": lost * float(high) * value * margin,
        })
    return pd.DataFrame(rows)


def _headline(df: pd.DataFrame, spec: Any, currency: str, value: float) -> str:
    noun = "customers" if spec.unit == "customer" else "cases"
    if df.empty or not df["lost"].sum():
        return f"No {noun} dropped out of the funnel (yet)."
    top = df.iloc[0]
    where = f"between {top['from_step']} and {top['to_step']}"
    if spec.by.kind != "none":
        where += f" for {spec.by.name} {top[spec.by.name]}"
    text = (f"The costliest drop-out is {where}: {int(top['lost']):,} {noun} lost "
            f"({pct(top['share_of_lost'])} of all drop-outs)")
    if np.isfinite(value):
        text += (f", about {money(top['money_at_stake'], currency)} of margin "
                 f"({money(top['money_low'], currency)}-{money(top['money_high'], currency)}) "
                 f"at {pct(top['downstream_rate'])} onward conversion and "
                 f"{money(value, currency)} per conversion")
    else:
        text += (f", about {top['conversions_lost']:,.0f} conversions; set "
                 "value_per_conversion= to put money on it")
    return text + "."
