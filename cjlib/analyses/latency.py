"""Follow-up latency effect (DESIGN section 5): does a fast follow-up after a case opens (a quote,
a lead) raise its conversion, and after how long is the effect gone?

Per case: latency to the first follow-up (docs/funnel-semantics.md, "Latency effect"); outcome:
conversion within the window. Conversion by latency bucket with Wilson intervals; each bucket vs
the baseline (no follow-up, or no/late follow-up) as a risk ratio, raw and Mantel-Haenszel
adjusted over strata of the confounders; the latency beyond which the effect is gone, with a
case-bootstrap interval done on the aggregated counts.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pandas as pd

from cjlib.analyses import stats
from cjlib.analyses.conversion_common import (
    ArgumentError,
    Property,
    customer_columns,
    micros,
    parse_property,
    parse_step,
    parse_window,
    pct,
    utc_naive,
)
from cjlib.analyses.conversion_stats import mh_risk_ratio, resample_counts
from cjlib.analyses.sqlfiles import render
from cjlib.result import Result

DEFAULT_BUCKETS = (0, 20, 60, 240, 1440)  # minutes
DEFAULT_ADJUST = ("source", "segment", "hour", "weekday")
DERIVED = ("hour", "weekday")
SLOTS = 4
NONE_LABEL = "no follow-up"
# A customer's conversions / caseless follow-ups are looked up in a list (a hash join) up to this
# many; with more, the query runs again with sort-based ASOF joins (latency.sql, $robust).
LIST_LOOKUP_MAX = 1000


def latency_effect(
    journey: Any,
    *,
    case_event: str | dict[str, Any] = "quote",
    followup_events: list[str | dict[str, Any]] | str = ("followup_call",),
    conversion_event: str | dict[str, Any] = "purchase",
    window: str | Any = "30d",
    buckets: list[float] | tuple[float, ...] = DEFAULT_BUCKETS,
    by_method: bool = False,
    adjust_for: list[str] | tuple[str, ...] | None = DEFAULT_ADJUST,
    baseline: str | float = "none",
    start: Any = None,
    end: Any = None,
    min_cases: int = 30,
    n_boot: int = 400,
    seed: int = 20240101,
) -> Result:
    """Conversion by follow-up latency bucket, the fast-vs-baseline ratio (raw and adjusted) and
    the latency beyond which the effect is gone.

    `buckets`: increasing edges in minutes starting at 0 (last bucket open-ended).
    `baseline`: "none" (no follow-up within the window) or minutes M (no follow-up, or the first
    one later than M; M must be a bucket edge). `adjust_for`: up to four of events columns on the
    case event (falling back to the customers column of the same name), "customer.<col>",
    "attrs.<key>", "hour" (6-hour band, local time) and "weekday" (weekday / weekend).
    Buckets with fewer than `min_cases` cases carry no evidence either way when deciding where
    the effect is gone.
    """
    from cjlib.charts.conversion import latency_chart

    edges = [float(b) for b in buckets]
    if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ArgumentError("buckets: increasing minutes starting at 0, e.g. [0, 20, 60, 240]")
    if baseline != "none" and float(baseline) not in edges[1:]:
        raise ArgumentError(f"baseline={baseline!r}: 'none' or one of the bucket edges {edges[1:]}")
    follow = [followup_events] if isinstance(followup_events, str | dict) else list(
        followup_events)
    case_step = parse_step(case_event, "case_event")
    conv_step = parse_step(conversion_event, "conversion_event")
    follow_steps = [parse_step(f, "followup_events") for f in follow]
    ccols = customer_columns(journey)
    adjust = list(adjust_for or [])
    adjust = [a for a in adjust if _available(a, ccols)]
    if len(adjust) > SLOTS:
        raise ArgumentError(f"adjust_for: at most {SLOTS} variables")
    props = [_property(a, ccols) for a in adjust]
    defs = [{"role": "case", "label": case_step.label, **_def(case_step)},
            {"role": "conversion", "label": conv_step.label, **_def(conv_step)}]
    defs += [{"role": "followup", "label": s.label, **_def(s)} for s in follow_steps]
    win = parse_window(window)
    identifiers, params = _slots(props, ccols)
    params.update({
        "defs": json.dumps(defs), "by_method": bool(by_method), "win_us": micros(win),
        "uppers": edges[1:], "tz": journey.settings.timezone,
        "start": utc_naive(start), "end": utc_naive(end),
        # switches the optimizer folds away: step conditions (and the columns they read),
        # strata, the customers join and the ASOF lookups are planned only when used
        "has_conds": any(d["conds"] for d in defs), "has_strata": bool(props),
        "use_customers": any(params[f"s{i}_kind"] == "customer" or params[f"s{i}_fallback"]
                             for i in range(1, SLOTS + 1)),
        "list_max": LIST_LOOKUP_MAX, "robust": False,
    })
    sql = render("latency", **identifiers)
    counts = journey.query(sql, params)
    if counts["deferred"].any():  # a customer with very many conversions / follow-ups
        params["robust"] = True
        counts = journey.query(sql, params)
    counts = counts.drop(columns="deferred")  # (none deferred in the robust run)
    labels = bucket_labels(edges)
    rng = np.random.default_rng(seed)
    tables, effects = [], {}
    for method, g in counts.groupby("method", sort=True):
        table, effect = _method_table(g, labels, edges, baseline, bool(adjust), min_cases,
                                      n_boot, rng)
        tables.append(table.assign(method=method))
        effects[method] = effect
    df = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if len(df):
        df = df[["method", *[c for c in df.columns if c != "method"]]]
    main = max(effects, key=lambda m: effects[m]["cases"]) if effects else None
    info = {
        "case_event": case_step.label, "followup_events": [s.label for s in follow_steps],
        "conversion_event": conv_step.label, "window": str(win), "buckets_min": edges,
        "by_method": by_method, "adjust_for": adjust, "min_cases": min_cases,
        "adjust_ignored": [a for a in (adjust_for or []) if a not in adjust],
        "baseline": baseline, "n_boot": n_boot, "seed": seed, "effects": effects,
        "baseline_rate": effects[main]["baseline_rate"] if main else None,
        "sql_params": params,
    }
    if main:
        info.update({k: effects[main][k] for k in (
            "ratio", "ratio_low", "ratio_high", "ratio_adj", "ratio_adj_low", "ratio_adj_high",
            "gone_after_min", "gone_after_low", "gone_after_high")})
    return Result(
        name="latency_effect",
        df=df,
        sql=sql,
        params=info,
        headline=_headline(effects.get(main) if main else None, labels, adjust, baseline),
        chart_fn=latency_chart,
        tables={"strata": counts},
    )


def bucket_labels(edges: list[float]) -> list[str]:
    def words(m: float) -> str:
        if m >= 60 and m % 60 == 0:
            return f"{m / 60:g} h"
        return f"{m:g} min"

    out = [f"{words(a)}-{words(b)}" if a else f"within {words(b)}"
           for a, b in itertools.pairwise(edges)]
    return [*out, f"after {words(edges[-1])}"]


def _method_table(
    g: pd.DataFrame, labels: list[str], edges: list[float], baseline: str | float,
    adjusted: bool, min_cases: int, n_boot: int, rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-bucket rates and ratios vs the baseline for one follow-up method."""
    n_b = len(labels)
    strata = sorted(g["stratum"].unique())
    s_index = {s: i for i, s in enumerate(strata)}
    # cells[bucket + 1, stratum] (row 0: no follow-up)
    cases = np.zeros((n_b + 1, len(strata)), dtype=np.int64)
    conv = np.zeros_like(cases)
    rows, cols = g["bucket"].to_numpy() + 1, g["stratum"].map(s_index).to_numpy()
    np.add.at(cases, (rows, cols), g["cases"].to_numpy())
    np.add.at(conv, (rows, cols), g["conversions"].to_numpy())
    base_rows = [0] if baseline == "none" else [0, *[
        i + 1 for i, lo in enumerate(edges) if lo >= float(baseline)]]
    compared = [r for r in range(n_b + 1) if r not in base_rows]
    table = _ratios(cases, conv, base_rows, compared)
    names = [NONE_LABEL, *labels]
    base_name = NONE_LABEL if baseline == "none" else \
        f"{NONE_LABEL} or after {float(baseline):g} min"
    out = pd.DataFrame({
        "bucket": [names[r] for r in compared] + [base_name],
        "lo_min": [edges[r - 1] for r in compared] + [np.nan],
        "hi_min": [edges[r] if r < n_b else np.inf for r in compared] + [np.nan],
        "is_baseline": [False] * len(compared) + [True],
        "cases": table["cases"], "conversions": table["conversions"],
    })
    out["rate"] = out["conversions"] / out["cases"].where(out["cases"] > 0)
    out["rate_low"], out["rate_high"] = stats.wilson(out["conversions"], out["cases"])
    for key in ("ratio", "ratio_low", "ratio_high", "ratio_adj", "ratio_adj_low",
                "ratio_adj_high"):
        out[key] = table[key]
    use = "ratio_adj" if adjusted else "ratio"
    few = np.array(table["cases"][:-1]) < min_cases
    lows, highs = table[f"{use}_low"][:-1], table[f"{use}_high"][:-1]
    gone = _gone_index(np.asarray(lows), np.asarray(highs), few)
    edges_cmp = [edges[r - 1] for r in compared]
    gone_min = edges_cmp[gone] if gone is not None else None
    boot = _bootstrap_gone(cases, conv, base_rows, compared, edges_cmp, adjusted, few, n_boot,
                           rng)
    first = 0
    base_cases = int(cases[base_rows].sum())
    effect = {
        "cases": int(cases.sum()), "baseline_cases": base_cases,
        "baseline_rate": float(conv[base_rows].sum() / base_cases) if base_cases else None,
        "fast_bucket": out["bucket"].iloc[first],
        "ratio": _f(out["ratio"].iloc[first]), "ratio_low": _f(out["ratio_low"].iloc[first]),
        "ratio_high": _f(out["ratio_high"].iloc[first]),
        "ratio_adj": _f(out["ratio_adj"].iloc[first]),
        "ratio_adj_low": _f(out["ratio_adj_low"].iloc[first]),
        "ratio_adj_high": _f(out["ratio_adj_high"].iloc[first]),
        "gone_after_min": gone_min,
        "gone_after_low": boot["low"], "gone_after_high": boot["high"],
        "gone_after_bootstrap": boot["share"], "strata": len(strata),
    }
    return out, effect


def _ratios(cases: np.ndarray, conv: np.ndarray, base_rows: list[int],
            compared: list[int]) -> dict[str, list[float]]:
    """Raw (all strata pooled) and Mantel-Haenszel ratios of each compared row vs the baseline."""
    n0, c0 = cases[base_rows].sum(axis=0), conv[base_rows].sum(axis=0)
    res: dict[str, list[float]] = {k: [] for k in (
        "cases", "conversions", "ratio", "ratio_low", "ratio_high", "ratio_adj",
        "ratio_adj_low", "ratio_adj_high")}
    for r in compared:
        res["cases"].append(int(cases[r].sum()))
        res["conversions"].append(int(conv[r].sum()))
        raw = stats.risk_ratio(conv[r].sum(), cases[r].sum(), c0.sum(), n0.sum())
        adj = mh_risk_ratio(conv[r], cases[r], c0, n0)
        for key, val in zip(("ratio", "ratio_low", "ratio_high"), raw, strict=True):
            res[key].append(float(val))
        for key, val in zip(("ratio_adj", "ratio_adj_low", "ratio_adj_high"), adj, strict=True):
            res[key].append(float(val))
    res["cases"].append(int(n0.sum()))
    res["conversions"].append(int(c0.sum()))
    for key in ("ratio", "ratio_adj"):
        res[key].append(1.0)
        res[f"{key}_low"].append(np.nan)
        res[f"{key}_high"].append(np.nan)
    return res


def _gone_index(lows: np.ndarray, highs: np.ndarray, few: np.ndarray) -> int | None:
    """The first bucket from which every later bucket's interval contains 1 (None: never);
    buckets with too few cases count as containing 1."""
    contains = (lows <= 1) & (highs >= 1) | np.isnan(lows) | np.isnan(highs) | few
    for i in range(len(contains)):
        if contains[i:].all():
            return i
    return None


def _bootstrap_gone(
    cases: np.ndarray, conv: np.ndarray, base_rows: list[int], compared: list[int],
    edges_cmp: list[float], adjusted: bool, few: np.ndarray, n_boot: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Resample cases (multinomially over (bucket, stratum, converted) cells) and recompute
    where the effect is gone; percentile interval of that latency."""
    if n_boot <= 0 or cases.sum() == 0:
        return {"low": None, "high": None, "share": {}}
    shape = cases.shape
    cells = np.concatenate([conv.ravel(), (cases - conv).ravel()])
    draws = resample_counts(cells, n_boot, rng)
    half = cases.size
    b_conv = draws[:, :half].reshape((n_boot, *shape))
    b_cases = b_conv + draws[:, half:].reshape((n_boot, *shape))
    if not adjusted:  # pool strata
        b_conv, b_cases = b_conv.sum(axis=2, keepdims=True), b_cases.sum(axis=2, keepdims=True)
    n0, c0 = b_cases[:, base_rows].sum(axis=1), b_conv[:, base_rows].sum(axis=1)
    lows, highs = [], []
    for r in compared:
        _, lo, hi = mh_risk_ratio(b_conv[:, r], b_cases[:, r], c0, n0)
        lows.append(lo)
        highs.append(hi)
    lows_a, highs_a = np.stack(lows, axis=1), np.stack(highs, axis=1)
    contains = ((lows_a <= 1) & (highs_a >= 1)) | np.isnan(lows_a) | np.isnan(highs_a) | few
    # gone index per replicate: the first i with contains[i:] all true (len = never)
    tail_ok = np.flip(np.cumprod(np.flip(contains, axis=1), axis=1), axis=1).astype(bool)
    never = len(compared)
    idx = np.where(tail_ok.any(axis=1), np.argmax(tail_ok, axis=1), never)
    values = np.array([*edges_cmp, np.inf])[idx]
    low, high = np.percentile(values, [2.5, 97.5], method="inverted_cdf")
    uniq, cnt = np.unique(values, return_counts=True)
    share = {(float(u) if np.isfinite(u) else "never"): float(c / n_boot)
             for u, c in zip(uniq, cnt, strict=True)}
    return {"low": float(low), "high": float(high), "share": share}


def _headline(effect: dict[str, Any] | None, labels: list[str], adjust: list[str],
              baseline: str | float) -> str:
    if not effect or not effect["cases"]:
        return "No cases found for the latency analysis."
    base = NONE_LABEL if baseline == "none" else f"no follow-up or after {baseline:g} min"
    ratio_key = "ratio_adj" if adjust else "ratio"
    r, lo, hi = (effect[ratio_key], effect[f"{ratio_key}_low"], effect[f"{ratio_key}_high"])
    if r is None or not np.isfinite(r):
        return (f"Too few cases to compare a follow-up {labels[0]} with {base} "
                f"({effect['cases']:,} cases).")
    text = (f"Cases followed up {labels[0]} convert {r:.2f}x as often as with {base} "
            f"(95% CI {lo:.2f}-{hi:.2f}")
    if adjust:
        text += f", adjusted for {', '.join(adjust)}; raw {effect['ratio']:.2f}x"
    text += f"; baseline rate {pct(effect['baseline_rate'], 1)})"
    gone = effect["gone_after_min"]
    if gone is None:
        text += "; the effect lasts beyond the last bucket"
    elif gone == 0:
        text += "; no bucket differs clearly from the baseline"
    else:
        lo_b, hi_b = effect["gone_after_low"], effect["gone_after_high"]
        interval = "" if lo_b is None else \
            f" (bootstrap 95% interval {_mins(lo_b)} to {_mins(hi_b)})"
        text += f"; the effect is gone after {_mins(gone)}{interval}"
    return text + "."


def _mins(m: float) -> str:
    if not np.isfinite(m):
        return "never"
    return f"{m / 60:g} h" if m >= 60 and m % 60 == 0 else f"{m:g} min"


def _f(x: Any) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _def(step: Any) -> dict[str, Any]:
    p = step.as_param(0)
    return {"event": p["event"], "conds": p["conds"]}


def _available(name: str, ccols: list[str]) -> bool:
    """Derived variables always exist; others if the journey has them (segment may be absent
    on ad-hoc event frames, which is reported in params['adjust_ignored'])."""
    if name in DERIVED or name.startswith("attrs."):
        return True
    try:
        prop = parse_property(name, ccols)
    except ArgumentError:
        return False
    return prop.kind != "customer" or prop.column in ccols


def _property(name: str, ccols: list[str]) -> Property:
    if name in DERIVED:
        return Property(name, name, "event")
    return parse_property(name, ccols)


def _slots(props: list[Property], ccols: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    identifiers: dict[str, str] = {}
    params: dict[str, Any] = {}
    for i in range(1, SLOTS + 1):
        p = props[i - 1] if i <= len(props) else Property("", "none", "event")
        identifiers[f"s{i}_col"] = p.column if p.kind == "event" else "event"
        if p.kind == "customer":
            identifiers[f"s{i}_ccol"] = p.column
        elif p.kind == "event" and p.column in ccols:
            identifiers[f"s{i}_ccol"] = p.column  # fallback when the case event lacks it
        else:
            identifiers[f"s{i}_ccol"] = "customer_id"
        params[f"s{i}_kind"] = p.kind
        params[f"s{i}_path"] = p.path
        params[f"s{i}_fallback"] = p.kind == "event" and p.column in ccols
    return identifiers, params
