"""Customer lifetime value: historic value per cohort and segment, and predictive BG/NBD +
Gamma-Gamma value per customer and segment (DESIGN section 5, "CLV").

SQL (analyses/sql/clv_*.sql) builds the per-purchaser RFM summary, the cohort table and the
per-segment history; Python fits the models on the summary (cjlib.analyses.btyd) and scores it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.btyd import (
    BGNBD,
    GammaGamma,
    discounted_expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
)
from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
MIN_PURCHASERS = 10  # below this the BG/NBD fit is not attempted
MIN_REPEATERS = 5  # below this neither model is fitted (nothing to learn a rate or spend from)


def rfm_summary(
    journey: Journey,
    *,
    purchase_event: str = "purchase",
    value: str = "value",
    by: str = "segment",
    period: str = "day",
    unit: str | None = None,
    end: str | date | datetime | None = None,
) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    """The per-purchaser (frequency, recency, T, monetary) summary, the SQL and its params."""
    params = _sql_params(journey, purchase_event, period, unit, end)
    sql = render("clv_summary", value=value, by=by)
    return journey.query(sql, params), sql, params


def clv(
    journey: Journey,
    *,
    purchase_event: str = "purchase",
    value: str = "value",
    by: str = "segment",
    period: str = "day",
    unit: str | None = None,
    end: str | date | datetime | None = None,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
) -> Result:
    """Historic and predicted value of purchasers, per `by` (a customers column).

    Args:
        purchase_event: the event that is a transaction; `value` its value column.
        period: purchases in one calendar period (day, week, month; client time zone) count
            once; recency and T are whole periods, expressed in `unit` (default: `period`), the
            time unit of the fitted rate `alpha`.
        end: end of observation (default: the last event); purchases after its period are
            ignored, so a past date gives a calibration/holdout split.
        horizon_months, discount_rate: the prediction horizon and the monthly discount rate of
            the expected value (month m discounted by (1 + rate)^-m).

    Result: `df` per `by` value (historic value, P(alive), expected purchases, discounted
    expected value and margin); tables `customers` (summary + predictions per purchaser),
    `cohorts` (historic value by month of first purchase), `fit` (parameter estimates).
    `.params` holds the inputs and the estimates r, alpha, a, b (BG/NBD) and p, q, gamma
    (Gamma-Gamma).
    """
    if horizon_months < 1:
        raise CjError("clv: horizon_months must be >= 1")
    summary, sql_summary, params = rfm_summary(
        journey, purchase_event=purchase_event, value=value, by=by, period=period, unit=unit,
        end=end)
    sql_cohorts = render("clv_cohorts", value=value)
    sql_segments = render("clv_segments", value=value, by=by)
    cohorts = journey.query(sql_cohorts, params)
    history = journey.query(sql_segments, params)

    bg, gg = _fit_models(summary)
    unit_per_month = UNIT_DAYS["month"] / params["unit_days"]
    customers = _score(summary, bg, gg, horizon_months, unit_per_month, discount_rate,
                       journey.gross_margin)
    df = _per_breakdown(history, customers, by)
    fit = _fit_table(bg, gg, params["unit"])

    fitted: dict[str, Any] = {}
    if bg is not None:
        fitted.update(bg.params())
        fitted["bgnbd_log_likelihood"] = bg.log_likelihood
    if gg is not None:
        fitted.update(gg.params())
        fitted["gamma_gamma_log_likelihood"] = gg.log_likelihood
    all_params = {
        "purchase_event": purchase_event, "value": value, "by": by, "period": period,
        "unit": params["unit"], "end": params["end"], "timezone": params["tz"],
        "horizon_months": horizon_months, "discount_rate": discount_rate,
        "gross_margin": journey.gross_margin, "currency": journey.currency,
        "purchasers": len(summary), "repeat_purchasers": int((summary.frequency > 0).sum()),
        **fitted,
    }
    sql = "\n\n".join(
        f"-- {name}\n{text.strip()}"
        for name, text in (("clv_summary", sql_summary), ("clv_cohorts", sql_cohorts),
                           ("clv_segments", sql_segments))
    )
    return Result(
        name="clv",
        df=df,
        sql=sql,
        params=all_params,
        headline=_headline(customers, bg, gg, horizon_months, discount_rate, journey.currency),
        chart_fn=_chart,
        tables={"customers": customers, "cohorts": cohorts, "fit": fit},
    )


# ------------------------------------------------------------------------------ helpers


def _sql_params(journey: Journey, purchase_event: str, period: str, unit: str | None,
                end: str | date | datetime | None) -> dict[str, Any]:
    if period not in UNIT_DAYS:
        raise CjError(f"clv: period must be one of {sorted(UNIT_DAYS)}, not {period!r}")
    unit = unit or period
    if unit not in UNIT_DAYS:
        raise CjError(f"clv: unit must be one of {sorted(UNIT_DAYS)}, not {unit!r}")
    return {
        "purchase_event": purchase_event,
        "period": period,
        "unit": unit,
        "unit_days": UNIT_DAYS[unit],
        "tz": journey.settings.timezone,
        "end": None if end is None else pd.Timestamp(end).to_pydatetime(),
    }


def _fit_models(summary: pd.DataFrame) -> tuple[BGNBD | None, GammaGamma | None]:
    """BG/NBD on every purchaser, Gamma-Gamma on repeaters with a positive mean value."""
    repeaters = summary[(summary.frequency > 0)]
    if len(summary) < MIN_PURCHASERS or len(repeaters) < MIN_REPEATERS:
        return None, None
    bg = fit_bgnbd(summary.frequency, summary.recency, summary["T"])
    spenders = repeaters[repeaters.monetary.notna() & (repeaters.monetary > 0)]
    gg = None
    if len(spenders) >= MIN_REPEATERS:
        gg = fit_gamma_gamma(spenders.frequency, spenders.monetary)
    return bg, gg


def _score(summary: pd.DataFrame, bg: BGNBD | None, gg: GammaGamma | None, months: int,
           unit_per_month: float, rate: float, margin: float) -> pd.DataFrame:
    """Per purchaser: P(alive), expected purchases, expected value per purchase, discounted
    expected value (revenue) and margin over the horizon."""
    out = summary.copy()
    x, t_x, T = (out[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    nan = np.full(len(out), np.nan)
    if bg is None:
        out["p_alive"] = out["expected_purchases"] = nan
        discounted = nan
    else:
        out["p_alive"] = bg.p_alive(x, t_x, T)
        purchases, discounted = discounted_expected_purchases(bg, x, t_x, T, months,
                                                              unit_per_month, rate)
        out["expected_purchases"] = purchases
    out["expected_value_per_purchase"] = (
        gg.expected_value(x, out.monetary.to_numpy(float)) if gg is not None else nan)
    out["expected_value"] = discounted * out["expected_value_per_purchase"]
    out["expected_margin"] = out["expected_value"] * margin
    return out


def _per_breakdown(history: pd.DataFrame, customers: pd.DataFrame, by: str) -> pd.DataFrame:
    grouped = customers.groupby("breakdown", sort=False).agg(
        repeat_purchasers=("frequency", lambda s: int((s > 0).sum())),
        p_alive=("p_alive", "mean"),
        expected_purchases=("expected_purchases", lambda s: s.sum(min_count=len(s))),
        expected_value=("expected_value", lambda s: s.sum(min_count=len(s))),
        expected_margin=("expected_margin", lambda s: s.sum(min_count=len(s))),
    ).reset_index()
    df = history.merge(grouped, on="breakdown", how="left")
    df["repeat_purchasers"] = df["repeat_purchasers"].fillna(0).astype(int)
    df["historic_value_per_customer"] = df.historic_value / df.customers
    df["expected_margin_per_purchaser"] = df.expected_margin / df.purchasers.where(
        df.purchasers > 0)
    columns = ["breakdown", "customers", "purchasers", "repeat_purchasers", "purchases",
               "historic_value", "historic_value_per_customer", "p_alive",
               "expected_purchases", "expected_value", "expected_margin",
               "expected_margin_per_purchaser"]
    return df[columns].rename(columns={"breakdown": by})


def _fit_table(bg: BGNBD | None, gg: GammaGamma | None, unit: str) -> pd.DataFrame:
    rows = []
    if bg is not None:
        meaning = {"r": "shape of the purchase-rate gamma",
                   "alpha": f"scale of the purchase-rate gamma (in {unit}s)",
                   "a": "dropout beta a", "b": "dropout beta b"}
        rows += [("BG/NBD", k, v, bg.std_errors.get(k, np.nan), meaning[k], bg.n,
                  bg.log_likelihood) for k, v in bg.params().items()]
    if gg is not None:
        meaning = {"p": "shape of transaction value", "q": "shape of the spend-scale gamma",
                   "gamma": "scale of the spend-scale gamma"}
        rows += [("Gamma-Gamma", k, v, gg.std_errors.get(k, np.nan), meaning[k], gg.n,
                  gg.log_likelihood) for k, v in gg.params().items()]
    return pd.DataFrame(rows, columns=["model", "parameter", "estimate", "std_error", "meaning",
                                       "customers", "log_likelihood"])


def _headline(customers: pd.DataFrame, bg: BGNBD | None, gg: GammaGamma | None, months: int,
              rate: float, currency: str) -> str:
    n = len(customers)
    if n == 0:
        return "No purchases in the data, so there is no customer value to report."
    if customers.total_value.notna().any():
        text = f"{n:,} purchasers have spent {currency} {customers.total_value.sum():,.0f} so far"
    else:
        text = f"{n:,} purchasers have made {customers.purchases.sum():,.0f} purchases so far"
    if bg is None:
        return text + "; too few repeat purchasers to fit the BG/NBD model."
    text += f"; BG/NBD (r={bg.r:.2f}, alpha={bg.alpha:.2f}, a={bg.a:.2f}, b={bg.b:.2f})"
    if not all(np.isfinite(list(bg.std_errors.values()))):
        text += " lies on a boundary of its parameter space (no finite standard errors)"
    purchases = customers.expected_purchases.sum(min_count=n)
    if not np.isfinite(purchases):
        return text + ", so its predictions are not usable."
    text += (f" puts {customers.p_alive.mean():.0%} of them still active on average and expects "
             f"{purchases:,.0f} repeat purchases in the next {months} months")
    value = customers.expected_value.sum(min_count=n)
    if gg is None or not np.isfinite(value):
        return text + "."
    return (text + f", worth {currency} {value:,.0f} discounted at {rate:.1%} a month "
            f"({currency} {customers.expected_margin.sum():,.0f} margin).")


def _chart(result: Result) -> Any:
    """The chart of this result (altair is imported only when a chart is drawn)."""
    from cjlib.charts.value import clv_chart

    return clv_chart(result)
