"""Small helpers shared by the journey analyses (paths, process, touchpoints, retention).

Window parsing, the arrow used in sequence strings, Wilson columns on aggregated frames, and a
grouped linear-probability slope with a robust (HC0) interval.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjlib.analyses.stats import Z95, wilson
from cjlib.errors import CjError

if TYPE_CHECKING:
    from cjlib.journey import Journey

ARROW = " → "
STATE_COLUMNS = ("event", "channel", "phase", "source", "kind", "outcome", "feed")
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")


def parse_window(value: str | float | int | timedelta | None) -> timedelta | None:
    """'30d', '3d12h', '90m', '24h', 3600 (seconds) or a timedelta -> timedelta (None stays)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    text = str(value).strip().lower().replace(" ", "")
    parts = _PART.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise CjError(f"cannot read the window {value!r}; write e.g. '30d', '12h', '90m'")
    return timedelta(seconds=sum(float(a) * _UNITS[b] for a, b in parts))


def unit_seconds(unit: str) -> int:
    """Seconds in a duration unit name (seconds, minutes, hours, days, weeks)."""
    key = unit.lower().rstrip("s")
    table = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
    if key not in table:
        raise CjError(f"unknown duration unit {unit!r}; use one of {sorted(table)}s")
    return table[key]


def state_column(level: str) -> str:
    """Validate a sequence level (a canonical column) and return it."""
    if level not in STATE_COLUMNS:
        raise CjError(f"level must be one of {STATE_COLUMNS}, not {level!r}")
    return level


def as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """A list of names for a `$param::VARCHAR[]` (None stays None = no restriction)."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def observation_end(journey: Journey, data_end: Any = None) -> datetime | None:
    """The end of observation (UTC, naive): `data_end` if given, else the last event time."""
    if data_end is not None:
        ts = pd.Timestamp(data_end)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime()
    return journey.data_end()


def add_wilson(df: pd.DataFrame, k: str, n: str, rate: str = "rate",
               low: str = "low", high: str = "high") -> pd.DataFrame:
    """Add `rate`, `low`, `high` (Wilson 95%) for the proportion k/n to a copy of df."""
    out = df.copy()
    kk = out[k].to_numpy(dtype=float)
    nn = out[n].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[rate] = np.where(nn > 0, kk / np.where(nn > 0, nn, 1), np.nan)
    lo, hi = wilson(kk, nn)
    out[low], out[high] = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return out


def fmt_pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def grouped_linear_slope(x: np.ndarray, k: np.ndarray, n: np.ndarray) -> dict[str, float]:
    """Linear probability model y = b0 + b1 x fitted on grouped binary data (k successes of n at
    each x) by least squares, with the HC0 (White) sandwich interval computed from the groups:
    identical to OLS with robust errors on the case-level rows."""
    x, k, n = (np.asarray(a, dtype=float) for a in (x, k, n))
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    if len(np.unique(x)) < 2:
        return {"b0": np.nan, "b1": np.nan, "b1_low": np.nan, "b1_high": np.nan}
    design = np.column_stack([np.ones_like(x), x])
    xtx = design.T @ (design * n[:, None])
    beta = np.linalg.solve(xtx, design.T @ k)
    fit = design @ beta
    # sum of squared residuals of the rows in each group: k (1 - f)^2 + (n - k) f^2
    ssr = k * (1 - fit) ** 2 + (n - k) * fit**2
    meat = design.T @ (design * ssr[:, None])
    bread = np.linalg.inv(xtx)
    cov = bread @ meat @ bread
    se = float(np.sqrt(cov[1, 1]))
    return {"b0": float(beta[0]), "b1": float(beta[1]), "b1_low": float(beta[1] - Z95 * se),
            "b1_high": float(beta[1] + Z95 * se)}


def grouped_logistic(x: np.ndarray, k: np.ndarray, n: np.ndarray) -> dict[str, float]:
    """Logistic regression logit p = a + b x on grouped binomial data (statsmodels GLM):
    slope b (log-odds per unit), its Wald 95% interval and p-value."""
    import warnings

    import statsmodels.api as sm

    x, k, n = (np.asarray(a, dtype=float) for a in (x, k, n))
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    nan = {"a": np.nan, "b": np.nan, "b_low": np.nan, "b_high": np.nan, "p_value": np.nan}
    if len(np.unique(x)) < 2 or k.sum() in (0, n.sum()):
        return nan
    endog = np.column_stack([k, n - k])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(endog, sm.add_constant(x), family=sm.families.Binomial()).fit()
    except Exception:
        return nan
    low, high = res.conf_int()[1]
    return {"a": float(res.params[0]), "b": float(res.params[1]), "b_low": float(low),
            "b_high": float(high), "p_value": float(res.pvalues[1])}
