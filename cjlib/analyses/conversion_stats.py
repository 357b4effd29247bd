"""Statistics for the conversion analyses that stats.py does not have.

- `kaplan_meier`: Kaplan-Meier on aggregated durations (counts of events and censorings per
  time), Greenwood standard errors, log(-log) intervals.
- `mh_risk_ratio`: Mantel-Haenszel risk ratio over strata with the Greenland-Robins (1985)
  variance of its log; vectorised over bootstrap replicates.
- `resample_counts`: a case bootstrap done on aggregated cells (multinomial over cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cjlib.analyses.stats import Z95


def kaplan_meier(times: np.ndarray, events: np.ndarray, censored: np.ndarray,
                 level: float = 0.95) -> pd.DataFrame:
    """Survival after each distinct event time from aggregated rows.

    `times[i]` has `events[i]` events and `censored[i]` censorings; censorings at a time are
    still at risk for the events at that time (the usual convention). Returns one row per
    distinct time with at least one event, after a first row at t=0 with survival 1.
    """
    from scipy.stats import norm

    frame = pd.DataFrame({"t": np.asarray(times, dtype=float),
                          "d": np.asarray(events, dtype=float),
                          "c": np.asarray(censored, dtype=float)})
    frame = frame.groupby("t", as_index=False)[["d", "c"]].sum().sort_values("t")
    total = frame["d"].sum() + frame["c"].sum()
    at_risk = total - (frame["d"] + frame["c"]).cumsum().shift(fill_value=0.0)
    frame["at_risk"] = at_risk
    frame = frame[frame["d"] > 0]
    n, d = frame["at_risk"].to_numpy(), frame["d"].to_numpy()
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(np.where(n > d, d / (n * (n - d)), np.nan))
        se = surv * np.sqrt(green)
        # log(-log S) interval (Kalbfleisch-Prentice), stays inside [0, 1]
        z = norm.ppf(0.5 + level / 2)
        loglog_se = np.sqrt(green) / np.abs(np.log(surv))
        low = surv ** np.exp(z * loglog_se)
        high = surv ** np.exp(-z * loglog_se)
    out = pd.DataFrame({
        "t_s": frame["t"].to_numpy(), "at_risk": n, "events": d, "survival": surv,
        "se": se, "survival_low": low, "survival_high": high,
    })
    start = pd.DataFrame({"t_s": [0.0], "at_risk": [total], "events": [0.0], "survival": [1.0],
                          "se": [0.0], "survival_low": [1.0], "survival_high": [1.0]})
    return pd.concat([start, out], ignore_index=True) if total else start.iloc[:0]


def mh_risk_ratio(
    a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray, level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mantel-Haenszel risk ratio of exposed (a events of n1) vs unexposed (c of n0).

    The last axis indexes strata; leading axes (e.g. bootstrap replicates) are kept. Strata
    with n1 == 0 or n0 == 0 contribute nothing. Interval: exp(log RR ± z * sqrt(var)), with
    var = sum((n1 n0 (a + c) - a c N) / N^2) / (R S), R = sum(a n0 / N), S = sum(c n1 / N).
    NaN where R or S is zero.
    """
    from scipy.stats import norm

    a, n1, c, n0 = (np.asarray(x, dtype=float) for x in (a, n1, c, n0))
    big_n = n1 + n0
    ok = (n1 > 0) & (n0 > 0)
    safe = np.where(ok, big_n, 1.0)
    r = np.where(ok, a * n0 / safe, 0.0).sum(axis=-1)
    s = np.where(ok, c * n1 / safe, 0.0).sum(axis=-1)
    p = np.where(ok, (n1 * n0 * (a + c) - a * c * big_n) / safe**2, 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where((r > 0) & (s > 0), r / s, np.nan)
        se = np.sqrt(p / (r * s))
    z = norm.ppf(0.5 + level / 2) if level != 0.95 else Z95
    return rr, rr * np.exp(-z * se), rr * np.exp(z * se)


def resample_counts(
    counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Case bootstrap on aggregated cells: each replicate redraws the total number of cases
    over the cells with probabilities proportional to `counts` (shape (n_boot, n_cells))."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n_boot, len(counts)), dtype=np.int64)
    return rng.multinomial(total, counts / total, size=n_boot)
