"""Shared statistics for analyses: intervals for proportions and ratios, tests, FDR control.

Thin wrappers over statsmodels / scipy so every analysis reports intervals the same way.
Imports are local so that opening a dashboard does not pay for statsmodels until it is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson(
    successes: np.ndarray | pd.Series | int,
    trials: np.ndarray | pd.Series | int,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (vectorised); NaN where trials == 0."""
    from statsmodels.stats.proportion import proportion_confint

    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    low, high = proportion_confint(k, safe_n, alpha=1 - level, method="wilson")
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def risk_ratio(
    k1: float, n1: float, k0: float, n0: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Ratio of two proportions (k1/n1)/(k0/n0) with a Katz log interval.

    Adds 0.5 to every cell when a count is zero (Haldane-Anscombe)."""
    from scipy.stats import norm

    if min(n1, n0) <= 0:
        return np.nan, np.nan, np.nan
    if k1 == 0 or k0 == 0:
        k1, k0, n1, n0 = k1 + 0.5, k0 + 0.5, n1 + 1, n0 + 1
    ratio = (k1 / n1) / (k0 / n0)
    se = np.sqrt(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0)
    z = norm.ppf(0.5 + level / 2)
    return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


def two_proportion_test(k1: float, n1: float, k0: float, n0: float) -> tuple[float, float]:
    """Two-sided z-test (pooled) for p1 == p0: (z, p-value)."""
    from statsmodels.stats.proportion import proportions_ztest

    if min(n1, n0) <= 0:
        return np.nan, np.nan
    z, p = proportions_ztest([k1, k0], [n1, n0])
    return float(z), float(p)


def diff_interval(
    k1: float, n1: float, k0: float, n0: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference of proportions p1 - p0 with the Newcombe (Wilson-based) interval."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    if min(n1, n0) <= 0:
        return np.nan, np.nan, np.nan
    low, high = confint_proportions_2indep(
        k1, n1, k0, n0, method="newcomb", compare="diff", alpha=1 - level
    )
    return k1 / n1 - k0 / n0, float(low), float(high)


def benjamini_hochberg(p_values: np.ndarray | list[float], q: float = 0.05) -> np.ndarray:
    """Which hypotheses are rejected at false-discovery rate q (Benjamini-Hochberg)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return np.zeros(0, dtype=bool)
    reject, *_ = multipletests(np.nan_to_num(p, nan=1.0), alpha=q, method="fdr_bh")
    return reject
