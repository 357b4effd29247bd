"""Small synthetic event logs for the nugget-scan tests: quotes (cases) with lead sources, outbound
follow-up calls carrying the quote's case_id, an id check started/completed, purchases; planted
effects are multipliers on the purchase probability."""

from __future__ import annotations

import numpy as np
import pandas as pd

import cjlib

T0 = pd.Timestamp("2024-01-01")


def synthetic_events(
    n: int = 1500,
    seed: int = 0,
    *,
    source_mult: float = 1.0,
    fast_call_mult: float = 1.0,
    check_fail: float = 0.1,
    base: float = 0.2,
) -> pd.DataFrame:
    """One quote per customer over 300 days; source 'c' converts `source_mult` times as often,
    a call within 20 minutes multiplies conversion by `fast_call_mult`; the id check fails with
    probability `check_fail`."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    t0 = T0 + pd.to_timedelta(rng.integers(0, 300 * 86400, n), unit="s")
    source = rng.choice(np.array(["a", "b", "c"]), n)
    called = rng.random(n) < 0.7
    latency = rng.exponential(60.0, n)  # minutes
    fast = called & (latency <= 20)
    p = base * np.where(source == "c", source_mult, 1.0) * np.where(fast, fast_call_mult, 1.0)
    converted = rng.random(n) < np.minimum(p, 0.95)
    checked = rng.random(n) < 0.5
    completed = checked & (rng.random(n) >= check_fail)
    case = np.array([f"Q{i}" for i in ids])
    parts = [
        pd.DataFrame({"customer": ids, "ts": t0, "event": "quote", "kind": "quotes",
                      "case_id": case, "source": source, "channel": "web", "value": 500.0}),
        pd.DataFrame({"customer": ids[called],
                      "ts": t0[called] + pd.to_timedelta(latency[called], unit="min"),
                      "event": "followup_call", "kind": "calls", "case_id": case[called],
                      "channel": "phone"}),
        pd.DataFrame({"customer": ids[checked], "ts": t0[checked] + pd.Timedelta("5min"),
                      "event": "id_check_started", "kind": "web", "channel": "web"}),
        pd.DataFrame({"customer": ids[completed], "ts": t0[completed] + pd.Timedelta("9min"),
                      "event": "id_check_completed", "kind": "web", "channel": "web"}),
        pd.DataFrame({"customer": ids[converted], "ts": t0[converted] + pd.Timedelta("2D"),
                      "event": "purchase", "kind": "orders",
                      "case_id": [f"O{i}" for i in ids[converted]], "channel": "phone",
                      "value": 500.0}),
    ]
    frame = pd.concat(parts, ignore_index=True)
    for col in ("source", "case_id", "value"):
        if col not in frame:
            frame[col] = None
    return frame


def journey_of(frame: pd.DataFrame, **settings: object) -> object:
    """A Journey over a synthetic frame with the canonical columns it carries."""
    return cjlib.from_events(frame, customer_id="customer", ts="ts", event="event", kind="kind",
                             case_id="case_id", source="source", channel="channel",
                             value="value", **settings)
