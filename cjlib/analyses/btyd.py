"""Buy-till-you-die models on per-customer RFM summaries: BG/NBD and Gamma-Gamma.

Pure numpy/scipy maths, no database. Formulas from:
- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2): the likelihood, E[X(t)], the conditional
  expectation E[Y(t) | x, t_x, T], and P(alive) (also in their note on computing P(alive)).
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": the marginal
  density of the mean spend zbar of x transactions and its conditional expectation.

Inputs per customer: x = repeat purchases (frequency), t_x = recency (time of the last purchase
since the first), T = age (time since the first purchase), zbar = mean value of the repeat
purchases; times in one unit (the fitted rate `alpha` is in that unit).
Fits maximise the log-likelihood over log-parameters with scipy.optimize; identical customers are
collapsed and weighted so the fit cost depends on the number of distinct (x, t_x, T).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

ArrayLike = np.ndarray | list[float] | float
_A_ONE = 1e-4  # half-width around a = 1 where E[Y(t)] is found by symmetric averaging
_C_ZERO = 1e-9  # |a + b + x - 1| below this: E[Y(t)] by its limit at 0 (error O(1e-9) relative)


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD: purchase rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n: int = 0
    std_errors: dict[str, float] = field(default_factory=dict)

    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active | x, t_x, T) (FHL 2005); 1 for customers without repeats."""
        return bgnbd_p_alive(self.params(), x, t_x, T)

    def expected_purchases(self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                           T: ArrayLike) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005)."""
        return bgnbd_conditional_expected(self.params(), t, x, t_x, T)

    def expected_purchases_new(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)] for a customer just acquired (FHL 2005): E[Y(t)] at x = t_x = T = 0."""
        return bgnbd_conditional_expected(self.params(), t, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma: transaction value ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    n: int = 0
    std_errors: dict[str, float] = field(default_factory=dict)

    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def mean_value(self) -> float:
        """Population mean transaction value p * gamma / (q - 1) (needs q > 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("nan")

    def expected_value(self, x: ArrayLike, zbar: ArrayLike) -> np.ndarray:
        """E[value of a transaction | x repeat transactions with mean zbar] (FH 2013);
        the population mean for customers with x = 0."""
        x = np.asarray(x, dtype=float)
        zbar = np.nan_to_num(np.asarray(zbar, dtype=float))
        p, q, g = self.p, self.q, self.gamma
        with np.errstate(divide="ignore", invalid="ignore"):
            out = p * (g + x * zbar) / (p * x + q - 1)
        return np.where(q > 1, out, np.nan)


# ------------------------------------------------------------------------------ BG/NBD maths


def bgnbd_log_likelihood(params: dict[str, float], x: ArrayLike, t_x: ArrayLike,
                         T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD (FHL 2005), vectorised."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    has = x > 0
    xs = np.where(has, x, 1.0)
    a3 = np.where(
        has,
        betaln(a + 1, b + xs - 1) - betaln(a, b) - (r + xs) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + np.logaddexp(a2, a3)


def bgnbd_p_alive(params: dict[str, float], x: ArrayLike, t_x: ArrayLike,
                  T: ArrayLike) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b + x - 1) ((alpha + T)/(alpha + t_x))^(r + x))
    (FHL 2005); 1 for customers without repeat purchases."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    xs = np.where(x > 0, x, 1.0)
    log_odds = np.log(a) - np.log(b + xs - 1) + (r + xs) * (
        np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, 1.0 / (1.0 + np.exp(log_odds)), 1.0)


def bgnbd_conditional_expected(params: dict[str, float], t: ArrayLike, x: ArrayLike,
                               t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next t time units (FHL 2005).

    The closed form has a removable singularity at a = 1: there it is the mean of a = 1 -/+ 1e-4
    (the value is smooth in a, so the error is O(1e-8) relative)."""
    if abs(params["a"] - 1.0) < _A_ONE:
        return 0.5 * (
            _conditional_expected({**params, "a": 1.0 - _A_ONE}, t, x, t_x, T)
            + _conditional_expected({**params, "a": 1.0 + _A_ONE}, t, x, t_x, T))
    return _conditional_expected(params, t, x, t_x, T)


def _conditional_expected(params: dict[str, float], t: ArrayLike, x: ArrayLike,
                          t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    z = t / (alpha + T + t)
    ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    c = a + b + x - 1
    # c (1 - ratio 2F1(r + x, b + x; c; z)) has a finite limit as c -> 0, reached only by x = 0
    # when a + b = 1: -ratio (r + x)(b + x) z 2F1(r + x + 1, b + x + 1; 2; z)
    near = np.abs(c) < _C_ZERO
    safe_c = np.where(near, 1.0, c)
    scaled = np.where(
        near,
        -ratio * (r + x) * (b + x) * z * hyp2f1(r + x + 1, b + x + 1, 2.0, z),
        safe_c * (1.0 - ratio * hyp2f1(r + x, b + x, safe_c, z)),
    )
    return scaled / (a - 1) * bgnbd_p_alive(params, x, t_x, T)


# ------------------------------------------------------------------------------ Gamma-Gamma maths


def gamma_gamma_log_likelihood(params: dict[str, float], x: ArrayLike,
                               zbar: ArrayLike) -> np.ndarray:
    """Per-customer log density of the mean spend zbar of x >= 1 transactions
    (FH 2013): Gamma(px + q)/(Gamma(px) Gamma(q)) gamma^q (x zbar)^(px-1) x
    / (gamma + x zbar)^(px+q)."""
    p, q, g = params["p"], params["q"], params["gamma"]
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    xz = x * zbar
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
            + (p * x - 1) * np.log(xz) + np.log(x) - (p * x + q) * np.log(g + xz))


# ------------------------------------------------------------------------------ fitting
# The fits minimise the negative log-likelihood over log-parameters with BFGS and the analytic
# gradient (digamma terms); terms that depend on x only are evaluated once per distinct x.


def _collapse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns and how many customers share each."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def bgnbd_objective(x: ArrayLike, t_x: ArrayLike, T: ArrayLike,
                    weights: ArrayLike | None = None,
                    ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """theta = log(r, alpha, a, b) -> (negative log-likelihood, its gradient in theta)."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    xs, inverse = np.unique(x, return_inverse=True)
    has = x > 0

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(np.clip(theta, -30, 30))
        xm1 = np.maximum(xs - 1, 0)  # x - 1 where x > 0 (unused otherwise)
        # per distinct x
        lg = gammaln(r + xs) - gammaln(r)
        beta2 = betaln(a, b + xs) - betaln(a, b)
        beta3 = betaln(a + 1, b + xm1) - betaln(a, b)
        log_at = np.log(alpha + T)
        log_atx = np.log(alpha + t_x)
        rx = r + x
        a2 = beta2[inverse] - rx * log_at
        a3 = np.where(has, beta3[inverse] - rx * log_atx, -np.inf)
        top = np.logaddexp(a2, a3)
        ll = lg[inverse] + r * np.log(alpha) + top
        w2 = np.exp(a2 - top)
        w3 = 1.0 - w2
        # gradient in the natural parameters
        d_r = (digamma(r + xs) - digamma(r))[inverse] + np.log(alpha) - w2 * log_at - np.where(
            has, w3 * log_atx, 0.0)
        d_alpha = r / alpha - w2 * rx / (alpha + T) - np.where(has, w3 * rx / (alpha + t_x), 0.0)
        dab = digamma(a + b)
        d_a = (w2 * (digamma(a) - digamma(a + b + xs))[inverse]
               + w3 * np.where(has, (digamma(a + 1) - digamma(a + b + xs))[inverse], 0.0)
               - (digamma(a) - dab))
        d_b = (w2 * (digamma(b + xs) - digamma(a + b + xs))[inverse]
               + w3 * np.where(has, (digamma(b + xm1) - digamma(a + b + xs))[inverse], 0.0)
               - (digamma(b) - dab))
        grad = np.array([w @ d_r * r, w @ d_alpha * alpha, w @ d_a * a, w @ d_b * b])
        value = -float(w @ ll)
        if not np.isfinite(value):
            return 1e300, np.zeros(4)
        return value, -grad

    return objective


def gamma_gamma_objective(x: ArrayLike, zbar: ArrayLike, weights: ArrayLike | None = None,
                          ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """theta = log(p, q, gamma) -> (negative log-likelihood, its gradient in theta)."""
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    xs, inverse = np.unique(x, return_inverse=True)
    xz = x * zbar
    log_xz = np.log(xz)
    constant = float(w @ (np.log(x) - log_xz))  # the (x zbar)^-1 x Jacobian part

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, g = np.exp(np.clip(theta, -30, 30))
        px = p * x
        lg = (gammaln(p * xs + q) - gammaln(p * xs))[inverse]
        log_gxz = np.log(g + xz)
        ll = lg - gammaln(q) + q * np.log(g) + px * log_xz - (px + q) * log_gxz
        psi = digamma(p * xs + q)[inverse]
        d_p = x * (psi - digamma(p * xs)[inverse] + log_xz - log_gxz)
        d_q = psi - digamma(q) + np.log(g) - log_gxz
        d_g = q / g - (px + q) / (g + xz)
        value = -(float(w @ ll) + constant)
        if not np.isfinite(value):
            return 1e300, np.zeros(3)
        return value, -np.array([w @ d_p * p, w @ d_q * q, w @ d_g * g])

    return objective


def _fit(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
         start: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise a negative log-likelihood of log-parameters with its gradient (BFGS; Nelder-Mead
    from the BFGS point if BFGS stops short).

    Returns (estimates, log-likelihood, standard errors). Standard errors come from the inverse
    of the Hessian in log space (finite differences of the analytic gradient), mapped back by
    the delta method; NaN where it is not positive definite (a parameter on its boundary)."""
    best = minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-6,
                                                                       "maxiter": 1000})
    # BFGS often ends with "precision loss" at a point whose gradient is negligible relative to
    # the log-likelihood (flat ridges, parameters running to a boundary): accept those.
    converged = best.success or (
        np.isfinite(best.fun) and np.max(np.abs(best.jac)) <= 1e-6 * abs(best.fun) + 1e-4)
    if not converged:
        polish = minimize(lambda t: objective(t)[0], best.x, method="Nelder-Mead",
                          options={"maxiter": 2000, "xatol": 1e-8, "fatol": 1e-9})
        if polish.fun < best.fun:
            best = polish
    theta = best.x
    hessian = _hessian(objective, theta)
    se_log = np.full(len(theta), np.nan)
    symmetric = (hessian + hessian.T) / 2
    if np.all(np.isfinite(symmetric)) and np.all(np.linalg.eigvalsh(symmetric) > 0):
        se_log = np.sqrt(np.diag(np.linalg.inv(symmetric)))
    return np.exp(theta), float(-best.fun), np.exp(theta) * se_log


def _hessian(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
             h: float = 1e-5) -> np.ndarray:
    """Hessian by central differences of the gradient."""
    rows = []
    for step in np.eye(len(x)) * h:
        rows.append((objective(x + step)[1] - objective(x - step)[1]) / (2 * h))
    return np.array(rows)


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike,
              start: tuple[float, float, float, float] | None = None) -> BGNBD:
    """Maximum-likelihood BG/NBD fit on per-customer (x, t_x, T)."""
    (ux, ut, uT), w = _collapse(np.asarray(x), np.asarray(t_x), np.asarray(T))
    if w.sum() == 0:
        raise ValueError("fit_bgnbd: no customers")
    scale = float(np.average(uT, weights=w)) or 1.0
    # start: r = 1, alpha ~ the mean age (rate near the average purchase rate), a = 1, b = 1.
    x0 = np.log(start) if start else np.log([1.0, max(scale, 1e-3), 1.0, 1.0])
    (r, alpha, a, b), ll, se = _fit(bgnbd_objective(ux, ut, uT, w), x0)
    return BGNBD(r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=ll,
                 n=int(w.sum()), std_errors=dict(zip(("r", "alpha", "a", "b"), map(float, se),
                                                     strict=True)))


def fit_gamma_gamma(x: ArrayLike, zbar: ArrayLike,
                    start: tuple[float, float, float] | None = None) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma fit on customers with x >= 1 and zbar > 0 (others
    are ignored, as in FH 2013)."""
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    keep = (x > 0) & np.isfinite(zbar) & (zbar > 0)
    (ux, uz), w = _collapse(x[keep], zbar[keep])
    if w.sum() == 0:
        raise ValueError("fit_gamma_gamma: no customer with a repeat purchase and a value")
    mean = float(np.average(uz, weights=w))
    x0 = np.log(start) if start else np.log([1.0, 2.0, max(mean, 1e-6)])
    (p, q, g), ll, se = _fit(gamma_gamma_objective(ux, uz, w), x0)
    return GammaGamma(p=float(p), q=float(q), gamma=float(g), log_likelihood=ll, n=int(w.sum()),
                      std_errors=dict(zip(("p", "q", "gamma"), map(float, se), strict=True)))


def discounted_expected_purchases(model: BGNBD, x: ArrayLike, t_x: ArrayLike, T: ArrayLike,
                                  months: int, unit_per_month: float,
                                  monthly_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(expected purchases over `months`, their sum discounted monthly at `monthly_rate`).

    Month m's expected purchases E[Y(m)] - E[Y(m-1)] are discounted by (1 + rate)^-m (end of
    month), the usual discrete approximation since BG/NBD has no closed-form discounted value.
    """
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    steps = np.arange(0, months + 1, dtype=float) * unit_per_month
    cumulative = np.stack([model.expected_purchases(s, x, t_x, T) if s > 0 else np.zeros_like(x)
                           for s in steps])
    per_month = np.diff(cumulative, axis=0)
    factors = (1.0 + monthly_rate) ** -np.arange(1, months + 1, dtype=float)
    return cumulative[-1], factors @ per_month
