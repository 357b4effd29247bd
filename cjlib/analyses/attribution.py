"""Attribution of conversions to touchpoints (channel, lead source, ...): first touch, last
touch, linear, position-based (40/20/40), time decay, and Markov removal effects solved exactly
on the absorbing chain (DESIGN section 5, "Attribution").

SQL (analyses/sql/attribution_*.sql) cuts the journeys and sums the rule-based weights and the
chain's transition counts; Python solves the small linear systems of the chain.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

RULE_MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")
MODELS = (*RULE_MODELS, "markov")
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_DAYS = {"s": 1 / 86400, "m": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0}


def attribution(
    journey: Journey,
    *,
    conversion: str = "purchase",
    by: str = "channel",
    value: str = "value",
    lookback: str | float | None = "30d",
    half_life: str | float = "7d",
    first_only: bool = True,
    collapse: bool = True,
    touch_events: list[str] | None = None,
) -> Result:
    """Conversions and value attributed to each touchpoint by each model.

    Args:
        conversion: the conversion event; `value` its value column (NULL counts as 0).
        by: the events column naming the touchpoint (channel, source, or any other column).
        lookback: only touches this long before a conversion count ("30d", "12h", days as a
            number, None = no limit).
        half_life: time-decay half-life ("7d" or days).
        first_only: attribute each customer's first conversion only (else every conversion,
            each journey starting after the previous conversion).
        collapse: merge consecutive repeats of the same touchpoint into one touch.
        touch_events: events that count as touches (default: every event but the conversion
            with a non-null `by`).

    Result: `df` has one row per model x touchpoint (conversions, share, value); tables
    `removal_effects` (Markov), `transitions` (chain counts) and `wide` (touchpoint x model).
    Conversions with no touch in the lookback are reported (params) but not attributed.
    """
    params: dict[str, Any] = {
        "conversion": conversion,
        "lookback_days": _days(lookback),
        "half_life_days": _days(half_life),
        "first_only": first_only,
        "collapse": collapse,
        "touch_events": list(touch_events) if touch_events is not None else None,
    }
    if params["half_life_days"] is None or params["half_life_days"] <= 0:
        raise CjError("attribution: half_life must be a positive duration")
    sql_rules = render("attribution_rules", by=by, value=value)
    sql_markov = render("attribution_markov", by=by)
    sql_totals = render("attribution_totals", value=value)
    rules = journey.query(sql_rules, params)
    transitions = journey.query(sql_markov, params)
    totals = journey.query(sql_totals, params).iloc[0]

    p_conversion, removal = markov_removal_effects(transitions)
    df = _long_table(rules, removal, by)
    attributed = float(rules["first_touch"].sum())
    attributed_value = float(rules["first_touch_value"].sum())
    wide = df.pivot_table(index=by, columns="model", values="conversions", sort=False)
    wide = wide.reindex(columns=[m for m in MODELS if m in wide.columns]).reset_index()
    wide.columns.name = None

    all_params = {
        **params, "by": by, "value": value, "lookback": lookback, "half_life": half_life,
        "conversions": int(totals["conversions"]), "value_total": float(totals["value"]),
        "attributed_conversions": attributed, "attributed_value": attributed_value,
        "unattributed_conversions": int(totals["conversions"]) - round(attributed),
        "markov_conversion_probability": p_conversion, "currency": journey.currency,
    }
    sql = "\n\n".join(
        f"-- {name}\n{text.strip()}"
        for name, text in (("attribution_rules", sql_rules), ("attribution_markov", sql_markov),
                           ("attribution_totals", sql_totals))
    )
    return Result(
        name="attribution",
        df=df,
        sql=sql,
        params=all_params,
        headline=_headline(df, removal, all_params, by),
        chart_fn=_chart,
        tables={"removal_effects": removal, "transitions": transitions, "wide": wide},
    )


def markov_removal_effects(transitions: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """Exact first-order Markov attribution from transition counts (from_state, to_state, n).

    The chain's transient states are (start) and the touchpoints; (conversion) and (null) absorb.
    With Q the transient-to-transient and R the transient-to-conversion probabilities, the
    conversion probabilities x solve (I - Q) x = R; P(conversion) = x[(start)]. Removing a
    touchpoint redirects every transition into it to (null) (its x is forced to 0). Removal
    effect = 1 - P(conversion without it) / P(conversion); shares = effects / their sum.
    Returns (P(conversion), frame of touch, removal_effect, conversion_probability_without,
    share).
    """
    columns = ["touch", "removal_effect", "conversion_probability_without", "share"]
    if transitions.empty:
        return float("nan"), pd.DataFrame(columns=columns)
    touches = sorted((set(transitions.from_state) | set(transitions.to_state))
                     - {START, CONVERSION, NULL})
    states = [START, *touches]
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros((len(states), len(states) + 2))
    target = {**index, CONVERSION: len(states), NULL: len(states) + 1}
    rows = transitions.from_state.map(index).to_numpy()
    cols = transitions.to_state.map(target).to_numpy()
    np.add.at(counts, (rows, cols), transitions.n.to_numpy(float))
    totals = counts.sum(axis=1, keepdims=True)
    probs = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    q, r = probs[:, : len(states)], probs[:, len(states)]

    def conversion_probability(removed: int | None) -> float:
        qq, rr = q.copy(), r.copy()
        if removed is not None:
            qq[:, removed] = 0.0  # transitions into the removed state go to (null)
            qq[removed, :] = 0.0
            rr[removed] = 0.0
        x = np.linalg.solve(np.eye(len(states)) - qq, rr)
        return float(x[0])

    base = conversion_probability(None)
    without = np.array([conversion_probability(index[t]) for t in touches])
    effects = 1.0 - without / base if base > 0 else np.zeros(len(touches))
    total = effects.sum()
    shares = effects / total if total > 0 else np.full(len(touches), np.nan)
    frame = pd.DataFrame({"touch": touches, "removal_effect": effects,
                          "conversion_probability_without": without, "share": shares})
    return base, frame.sort_values("removal_effect", ascending=False, ignore_index=True)


# ------------------------------------------------------------------------------ helpers


def _days(duration: str | float | None) -> float | None:
    """'30d', '12h', '2w', '90m', '45s' or a number of days -> days (None stays None)."""
    if duration is None:
        return None
    if isinstance(duration, int | float):
        return float(duration)
    match = _DURATION.match(duration)
    if not match:
        raise CjError(f"attribution: cannot read duration {duration!r} (e.g. '30d', '12h')")
    return float(match.group(1)) * _UNIT_DAYS[match.group(2)]


def _long_table(rules: pd.DataFrame, removal: pd.DataFrame, by: str) -> pd.DataFrame:
    frames = []
    for model in RULE_MODELS:
        frames.append(pd.DataFrame({
            "model": model, "touch": rules.touch, "conversions": rules[model].astype(float),
            "value": rules[f"{model}_value"].astype(float)}))
    attributed = float(rules["first_touch"].sum())
    attributed_value = float(rules["first_touch_value"].sum())
    if len(removal) and attributed > 0:
        frames.append(pd.DataFrame({
            "model": "markov", "touch": removal.touch,
            "conversions": removal.share * attributed, "value": removal.share * attributed_value}))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "touch", "conversions", "value"])
    df["share"] = df.conversions / df.groupby("model").conversions.transform("sum")
    df["model"] = pd.Categorical(df.model, categories=MODELS, ordered=True)
    df = df.sort_values(["model", "conversions"], ascending=[True, False], ignore_index=True)
    df["model"] = df.model.astype(str)
    return df[["model", "touch", "conversions", "share", "value"]].rename(columns={"touch": by})


def _headline(df: pd.DataFrame, removal: pd.DataFrame, params: dict[str, Any], by: str) -> str:
    n = params["attributed_conversions"]
    if n == 0:
        return (f"None of the {params['conversions']:,} conversions has a {by} touch in the "
                "lookback window, so nothing can be attributed.")
    last = df[df.model == "last_touch"].iloc[0]
    text = (f"Of {params['conversions']:,} conversions, {n:,.0f} follow at least one {by} touch; "
            f"last touch credits {last[by]} with {last.share:.0%}")
    if len(removal):
        top = removal.iloc[0]
        text += (f", while the Markov chain finds removing {top.touch} would lose "
                 f"{top.removal_effect:.0%} of conversions ({top.share:.0%} of the credit)")
    return text + "."


def _chart(result: Result) -> Any:
    """The chart of this result (altair is imported only when a chart is drawn)."""
    from cjlib.charts.value import attribution_chart

    return attribution_chart(result)
