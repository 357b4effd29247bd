"""Shared helpers of the value-analysis tests (CLV, attribution, segments): public data loaders,
simulators and slow plain-Python / pandas reference implementations written independently of
cjlib (they loop over rows on purpose)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

T0 = pd.Timestamp("2024-01-01")

# ------------------------------------------------------------------------------ public data


def lifetimes_data_dir() -> Path | None:
    """The data folder of the `lifetimes` package (CDNOW sample, Fader & Hardie), if installed."""
    try:
        return Path(str(resources.files("lifetimes") / "datasets"))
    except ModuleNotFoundError:
        return None


def cdnow_transactions(folder: Path) -> pd.DataFrame:
    """CDNOW sample transactions (2,357 customers, Jan 1997 - Jun 1998): id, ts, amount."""
    raw = pd.read_csv(folder / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "id", "date", "quantity", "amount"],
                      dtype={"date": str})
    return pd.DataFrame({"id": raw["id"], "ts": pd.to_datetime(raw["date"], format="%Y%m%d"),
                         "event": "purchase", "amount": raw["amount"]})


# ------------------------------------------------------------------------------ BG/NBD


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, max_age: float,
                   seed: int) -> pd.DataFrame:
    """Customers of a BG/NBD world (FHL 2005 assumptions): x, t_x, T per customer.

    Each customer is observed for T ~ U(0, max_age) after a first purchase at 0; purchases at
    Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out with
    probability p ~ Beta(a, b)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(0, max_age, n)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, x, tx = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x, tx = x + 1, t
            if rng.random() < p[i]:
                break
        rows.append((x, tx, T[i]))
    return pd.DataFrame(rows, columns=["x", "t_x", "T"])


def reference_rfm_summary(purchases: pd.DataFrame, end: pd.Timestamp, period: str = "D",
                          ) -> pd.DataFrame:
    """Slow RFM summary: per customer, distinct purchase days (period 'D') after the first,
    days between first and last purchase day, days from the first purchase day to the end day,
    mean value of the repeat days (each day's values summed)."""
    rows = []
    end_day = end.floor(period)
    for customer, group in purchases.groupby("customer"):
        per_day: dict[pd.Timestamp, float] = defaultdict(float)
        for ts, value in zip(group.ts, group.value, strict=True):
            day = ts.floor(period)
            if day <= end_day:
                per_day[day] += value
        if not per_day:
            continue
        days = sorted(per_day)
        repeat = [per_day[d] for d in days[1:]]
        rows.append({
            "customer": customer, "frequency": len(days) - 1,
            "recency": (days[-1] - days[0]).days, "T": (end_day - days[0]).days,
            "monetary": float(np.mean(repeat)) if repeat else np.nan,
            "total_value": sum(per_day.values()),
        })
    return pd.DataFrame(rows, columns=["customer", "frequency", "recency", "T", "monetary",
                                       "total_value"])


# ------------------------------------------------------------------------------ attribution


def reference_journeys(events: pd.DataFrame, conversion: str, lookback_days: float | None,
                       first_only: bool, collapse: bool) -> list[dict]:
    """Cut each customer's ordered events into journeys, slowly.

    events: customer, ts, event, channel, value, order (tie-break). A journey holds the touches
    after the previous conversion and strictly before a conversion (a touch at the same time as
    a conversion starts the next journey); touches after the last conversion form a journey that
    does not convert. Touches older than `lookback_days` before the journey's end (conversion
    time, or last touch) are dropped, then consecutive repeats merged when `collapse`."""
    journeys = []
    for _, group in events.sort_values(["customer", "ts", "order"]).groupby("customer"):
        current: list[tuple[pd.Timestamp, str]] = []
        number = 0
        rows = list(group.itertuples())
        # conversions first among simultaneous events
        rows.sort(key=lambda e: (e.ts, 0 if e.event == conversion else 1, e.order))
        for e in rows:
            if e.event == conversion:
                number += 1
                journeys.append({"number": number, "touches": current, "converted": True,
                                 "end": e.ts, "value": 0.0 if pd.isna(e.value) else e.value})
                current = []
            elif e.channel is not None and not pd.isna(e.channel):
                current.append((e.ts, e.channel))
        if current:
            journeys.append({"number": number + 1, "touches": current, "converted": False,
                             "end": current[-1][0], "value": 0.0})
    out = []
    for jn in journeys:
        if first_only and jn["number"] != 1:
            continue
        touches = [(ts, c) for ts, c in jn["touches"]
                   if lookback_days is None or ts >= jn["end"] - pd.Timedelta(days=lookback_days)]
        if collapse:
            touches = [t for i, t in enumerate(touches) if i == 0 or t[1] != touches[i - 1][1]]
        out.append({**jn, "touches": touches})
    return out


def reference_rules(journeys: list[dict], half_life_days: float) -> pd.DataFrame:
    """Rule-based attribution, written from the model definitions: rows (model, touch,
    conversions, value)."""
    credit: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for jn in journeys:
        touches = jn["touches"]
        if not jn["converted"] or not touches:
            continue
        k = len(touches)
        channels = [c for _, c in touches]
        ages = [(jn["end"] - ts) / pd.Timedelta(days=1) for ts, _ in touches]
        decay = [0.5 ** (age / half_life_days) for age in ages]
        if k == 1:
            position = [1.0]
        elif k == 2:
            position = [0.5, 0.5]
        else:
            position = [0.4] + [0.2 / (k - 2)] * (k - 2) + [0.4]
        weights = {
            "first_touch": [1.0] + [0.0] * (k - 1),
            "last_touch": [0.0] * (k - 1) + [1.0],
            "linear": [1.0 / k] * k,
            "position_based": position,
            "time_decay": [d / sum(decay) for d in decay],
        }
        for model, ws in weights.items():
            for c, w in zip(channels, ws, strict=True):
                credit[(model, c)][0] += w
                credit[(model, c)][1] += w * jn["value"]
    return pd.DataFrame([(m, c, v[0], v[1]) for (m, c), v in credit.items()],
                        columns=["model", "touch", "conversions", "value"])


def reference_markov(paths: list[tuple[list[str], bool]]) -> tuple[float, dict[str, float]]:
    """Markov removal effects by power iteration on the full chain (absorbing states
    included), independent of any linear solve: (P(conversion), {touch: removal effect})."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for touches, converted in paths:
        if not touches:
            continue
        states = ["(start)", *touches, "(conversion)" if converted else "(null)"]
        for s, t in itertools.pairwise(states):
            counts[s][t] += 1
    channels = sorted({t for touches, _ in paths for t in touches})

    def conversion(removed: str | None) -> float:
        mass = {"(start)": 1.0}
        absorbed = {"(conversion)": 0.0, "(null)": 0.0}
        for _ in range(100_000):
            nxt: dict[str, float] = defaultdict(float)
            for state, m in mass.items():
                total = sum(counts[state].values())
                for target, n in counts[state].items():
                    target = "(null)" if target == removed else target
                    if target in absorbed:
                        absorbed[target] += m * n / total
                    else:
                        nxt[target] += m * n / total
            mass = nxt
            if sum(mass.values()) < 1e-14:
                break
        return absorbed["(conversion)"]

    base = conversion(None)
    return base, {c: 1 - conversion(c) / base for c in channels}


def paths_frame(paths: list[tuple[list[str], bool, float]]) -> pd.DataFrame:
    """An event frame with one customer per path: touches one hour apart (channel = touch,
    event 'touch'), then a 'purchase' of the given value when converted."""
    rows = []
    for i, (touches, converted, value) in enumerate(paths):
        for k, channel in enumerate(touches):
            rows.append((i, T0 + pd.Timedelta(hours=k), "touch", channel, np.nan))
        if converted:
            rows.append((i, T0 + pd.Timedelta(hours=len(touches)), "purchase", None, value))
    return pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"])


# ------------------------------------------------------------------------------ RFM


def qcut_scores(values: pd.Series) -> pd.Series:
    """Quintile scores 1-5 with pandas.qcut (valid when the quintile edges are distinct)."""
    return pd.qcut(values, 5, labels=False).astype(int) + 1


def rfm_segment_name(r: int, fm: int) -> str:
    """The named-segment rules of the RFM grid, restated from the documentation."""
    if r >= 4 and fm >= 4:
        return "champions"
    if r >= 3 and fm >= 3:
        return "loyal"
    if r >= 4:
        return "promising"
    if r == 3:
        return "needs_attention"
    if fm >= 3:
        return "at_risk"
    return "hibernating" if r == 2 else "lost"
