"""Slow, obviously-correct plain-Python references for the conversion analyses.

They read the canonical `events` / `customers` frames of a Journey (so event ids and tie order
are the same as the SQL sees) and follow the rules of docs/funnel-semantics.md literally, one
attempt and one event at a time. Used by the funnel / time-to-convert tests only.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FILTER_COLUMNS = ("channel", "source", "case_id", "outcome", "kind", "feed", "phase")


# ----------------------------------------------------------------------------- step matching


def step_matches(ev: dict[str, Any], step: str | dict[str, Any]) -> bool:
    """Does event row `ev` match `step` (an event name or a filter dict)?"""
    if isinstance(step, str):
        return ev["event"] == step
    if ev["event"] != step["event"]:
        return False
    for key, want in step.items():
        if key in ("event", "label", "name"):
            continue
        allowed = {str(v) for v in (want if isinstance(want, list | tuple) else [want])}
        if key.startswith("attrs."):
            attrs = ev.get("attrs")
            attrs = json.loads(attrs) if isinstance(attrs, str) else (attrs or {})
            got = attrs.get(key[6:])
            got = None if got is None else str(got)
        elif key in FILTER_COLUMNS:
            got = ev.get(key)
            got = None if got is None or (isinstance(got, float) and np.isnan(got)) else str(got)
        else:
            raise ValueError(key)
        if got is None or got not in allowed:
            return False
    return True


# ----------------------------------------------------------------------------- funnel reference


@dataclass
class Attempt:
    entry: dict[str, Any]
    filled: list[dict[str, Any]] = field(default_factory=list)  # events filling steps 1..f
    open: bool = False

    @property
    def furthest(self) -> int:
        return len(self.filled)

    @property
    def t_entry(self) -> datetime:
        return self.entry["ts"]

    @property
    def t_last(self) -> datetime:
        return self.filled[-1]["ts"]


@dataclass
class UnitResult:
    unit: Any
    furthest: int
    in_progress: bool
    grp: str
    chosen: Attempt


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict("records"):
        rec["ts"] = pd.Timestamp(rec["ts"]).to_pydatetime()
        out.append(rec)
    return out


def reference_funnel(
    events: pd.DataFrame,
    customers: pd.DataFrame,
    steps: list[Any],
    *,
    deadlines: list[timedelta],
    unit: str = "customer",
    order: str = "ordered",
    entry: str = "every",
    attempt: str = "latest",
    attribution: str = "first_touch",
    by: str | None = None,
    exclude: list[Any] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[Any, UnitResult]:
    """Per unit: furthest step, in progress or not, breakdown value, the counted attempt.

    `deadlines[k-1]` is the longest allowed time from the entry to step k (deadlines[0] unused).
    """
    key = "customer_id" if unit == "customer" else "case_id"
    rows = _records(events)
    data_end = max(r["ts"] for r in rows) if rows else None
    n = len(steps)
    window = deadlines[-1]
    by_units: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        if r[key] is None or (isinstance(r[key], float) and np.isnan(r[key])):
            continue
        by_units.setdefault(r[key], []).append(r)
    cust = customers.set_index("customer_id").to_dict("index") if len(customers) else {}
    results: dict[Any, UnitResult] = {}
    for u, evs in by_units.items():
        evs.sort(key=lambda r: (r["ts"], r["event_id"]))
        if order == "any":
            starters = [e for e in evs if any(step_matches(e, s) for s in steps)]
        else:
            starters = [e for e in evs if step_matches(e, steps[0])]
        starters = [e for e in starters if (start is None or e["ts"] >= start)
                    and (end is None or e["ts"] < end)]
        if entry == "first":
            starters = starters[:1]
        attempts = []
        for e1 in starters:
            if order == "ordered":
                a = _ordered_attempt(e1, evs, steps, deadlines)
            elif order == "strict":
                a = _strict_attempt(e1, evs, steps, deadlines)
            else:
                a = _any_attempt(e1, evs, steps, window)
            if exclude and _is_excluded(a, evs, exclude, n, window):
                continue
            a.open = _is_open(a, evs, n, deadlines, data_end, order, window)
            attempts.append(a)
        if not attempts:
            continue
        furthest = max(a.furthest for a in attempts)
        best = [a for a in attempts if a.furthest == furthest]
        if order == "any":
            chosen = (max if attempt == "latest" else min)(
                best, key=lambda a: (a.t_entry, a.entry["event_id"]))
        elif attempt == "latest":
            chosen = min(best, key=lambda a: (a.t_last, -a.t_entry.timestamp(),
                                              -a.entry["event_id"]))
        else:
            chosen = min(best, key=lambda a: (a.t_entry, a.entry["event_id"]))
        first = min(attempts, key=lambda a: (a.t_entry, a.entry["event_id"]))
        grp = _group(by, attribution, first, chosen, cust)
        in_progress = furthest < n and any(a.open for a in attempts)
        results[u] = UnitResult(u, furthest, in_progress, grp, chosen)
    return results


def _ordered_attempt(e1, evs, steps, deadlines) -> Attempt:
    a = Attempt(e1, [e1])
    used = {e1["event_id"]}
    for k in range(2, len(steps) + 1):
        prev = a.filled[-1]["ts"]
        cands = [e for e in evs if e["event_id"] not in used and e["ts"] >= prev
                 and e["ts"] - e1["ts"] <= deadlines[k - 1] and step_matches(e, steps[k - 1])]
        if not cands:
            break
        nxt = min(cands, key=lambda e: (e["ts"], e["event_id"]))
        a.filled.append(nxt)
        used.add(nxt["event_id"])
    return a


def _strict_attempt(e1, evs, steps, deadlines) -> Attempt:
    a = Attempt(e1, [e1])
    pos = evs.index(e1)
    for k in range(2, len(steps) + 1):
        pos += 1
        if pos >= len(evs):
            break
        nxt = evs[pos]
        if not step_matches(nxt, steps[k - 1]) or nxt["ts"] - e1["ts"] > deadlines[k - 1]:
            break
        a.filled.append(nxt)
    return a


def _any_attempt(e1, evs, steps, window) -> Attempt:
    inside = [e for e in evs if e1["ts"] <= e["ts"] <= e1["ts"] + window
              and any(step_matches(e, s) for s in steps)]
    best: tuple[dict[str, Any], ...] = ()
    for size in range(len(steps), 0, -1):  # the largest set of steps filled by distinct events
        for chosen_steps in itertools.combinations(range(len(steps)), size):
            for perm in itertools.permutations(inside, size):
                if all(step_matches(e, steps[s]) for e, s in zip(perm, chosen_steps,
                                                                   strict=True)):
                    best = perm
                    break
            if best:
                break
        if best:
            break
    return Attempt(e1, list(best))


def _is_excluded(a: Attempt, evs, exclude, n, window) -> bool:
    stop = a.t_last if a.furthest == n else a.t_entry + window
    return any(
        e["event_id"] != a.entry["event_id"] and a.t_entry <= e["ts"] <= stop
        and any(step_matches(e, x) for x in exclude)
        for e in evs
    )


def _is_open(a: Attempt, evs, n, deadlines, data_end, order, window) -> bool:
    if a.furthest >= n:
        return False
    if order == "any":
        return a.t_entry + window > data_end
    if a.t_entry + deadlines[a.furthest] <= data_end:
        return False
    if order == "strict":
        return evs.index(a.filled[-1]) == len(evs) - 1
    return True


def _group(by, attribution, first: Attempt, chosen: Attempt, cust) -> str:
    if by is None:
        return "all"
    if by.startswith("customer."):
        value = cust.get(chosen.entry["customer_id"], {}).get(by[9:])
    else:
        src = first if attribution == "first_touch" else chosen
        if by.startswith("attrs."):
            attrs = src.entry.get("attrs")
            attrs = json.loads(attrs) if isinstance(attrs, str) else (attrs or {})
            value = attrs.get(by[6:])
        else:
            value = src.entry.get(by)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(none)"
    return str(value)


def reference_counts(results: dict[Any, UnitResult], n_steps: int) -> pd.DataFrame:
    """Per (grp, step): reached, stopped_open, stopped_closed (the raw funnel query layout)."""
    rows = []
    for r in results.values():
        for k in range(1, r.furthest + 1):
            rows.append({"grp": r.grp, "step": k, "reached": 1,
                         "stopped_open": int(r.furthest == k and r.in_progress),
                         "stopped_closed": int(r.furthest == k and not r.in_progress)})
    if not rows:
        return pd.DataFrame(columns=["grp", "step", "reached", "stopped_open", "stopped_closed"])
    df = pd.DataFrame(rows).groupby(["grp", "step"], as_index=False).sum()
    return df.sort_values(["grp", "step"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- time to convert


def reference_durations(results: dict[Any, UnitResult], n_steps: int) -> dict[int, list[float]]:
    """Seconds from the entry to step k on each unit's counted attempt (k >= 2)."""
    out: dict[int, list[float]] = {k: [] for k in range(2, n_steps + 1)}
    for r in results.values():
        for k in range(2, r.furthest + 1):
            out[k].append((r.chosen.filled[k - 1]["ts"] - r.chosen.t_entry).total_seconds())
    return out


def reference_km_input(results: dict[Any, UnitResult], n_steps: int, window: timedelta,
                       data_end: datetime) -> list[tuple[float, bool]]:
    """(duration s, converted) per unit: converters at their time to the last step, the others
    censored at min(entry + window, data end)."""
    out = []
    for r in results.values():
        a = r.chosen
        if r.furthest == n_steps:
            out.append(((a.t_last - a.t_entry).total_seconds(), True))
        else:
            stop = min(a.t_entry + window, data_end)
            out.append(((stop - a.t_entry).total_seconds(), False))
    return out


def reference_km(samples: list[tuple[float, bool]]) -> pd.DataFrame:
    """Kaplan-Meier by the textbook product, one distinct event time at a time."""
    times = sorted({t for t, d in samples if d})
    surv, rows = 1.0, []
    for t in times:
        at_risk = sum(1 for s, _ in samples if s >= t)
        deaths = sum(1 for s, d in samples if d and s == t)
        surv *= 1 - deaths / at_risk
        rows.append({"t": t, "survival": surv})
    return pd.DataFrame(rows, columns=["t", "survival"]).astype(float)


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolation quantile (the 'type 7' rule numpy and DuckDB's quantile_cont use),
    written out."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# ----------------------------------------------------------------------------- tiny journeys


def make_journey(rows: list[tuple], columns: tuple[str, ...] = ("customer", "ts", "event"),
                 **settings: Any):
    """A Journey from tuples, e.g. [(1, "2024-01-01 10:00", "quote"), ...]; extra columns are
    mapped to canonical fields of the same name (channel, source, case_id, value, cost, attrs)."""
    import cjlib

    frame = pd.DataFrame(rows, columns=list(columns))
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
    extra = {c: c for c in columns if c not in ("customer", "ts", "event")}
    return cjlib.from_events(frame, customer_id="customer", ts="ts", event="event", **extra,
                             **settings)


def canonical(j) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The journey's events and customers as the SQL sees them."""
    events = j.sql("SELECT * FROM events ORDER BY event_id")
    events = events.astype(object).where(events.notna(), None)
    return events, j.sql("SELECT * FROM customers")


# ----------------------------------------------------------------------------- random logs
# Hypothesis generators shared by the funnel and time-to-convert property tests: ties (a coarse
# minute grid), repeated steps and overlapping filters, exclusions, censoring (short windows near
# the data end), one customer, cases without ids, timestamps around the 2024 UK DST changes.

DST_STARTS = [datetime(2024, 3, 31, 0, 30), datetime(2024, 10, 27, 0, 30),
              datetime(2024, 6, 1, 12, 0)]
STEP_SETS = [
    ["a", "b"],
    ["a", "b", "c"],
    ["a", "a", "b"],
    ["b", "a"],
    [{"event": "a", "channel": "web"}, "a", "b"],
    ["a", {"event": "b", "channel": ["web", "phone"]}, "b"],
    ["a", "b", {"event": "b", "channel": "web"}, "c"],
    # all different events (funnel.py's as-of fast path), one with a filter
    [{"event": "a", "channel": "web"}, "c", "b"],
]
EXCLUSIONS = [None, ["x"], [{"event": "c", "channel": "phone"}]]


@st.composite
def event_logs(draw: st.DrawFn) -> pd.DataFrame:
    base = draw(st.sampled_from(DST_STARTS))
    n_customers = draw(st.integers(1, 4))
    rows = []
    for cust in range(1, n_customers + 1):
        for _ in range(draw(st.integers(0, 8))):
            rows.append({
                "customer": cust,
                "ts": base + timedelta(minutes=draw(st.integers(0, 14))),
                "event": draw(st.sampled_from(["a", "b", "c", "x"])),
                "channel": draw(st.sampled_from(["web", "phone", None])),
                "case_id": draw(st.sampled_from(["Q1", "Q2", None])),
            })
    if not rows:  # one customer with one unrelated event: an empty funnel
        rows.append({"customer": 1, "ts": base, "event": "z", "channel": None, "case_id": None})
    return pd.DataFrame(rows)


@st.composite
def questions(draw: st.DrawFn) -> dict:
    steps = draw(st.sampled_from(STEP_SETS))
    order = draw(st.sampled_from(["ordered", "strict", "any"]))
    q = {
        "steps": steps,
        "order": order,
        "entry": draw(st.sampled_from(["every", "first"])),
        "attempt": draw(st.sampled_from(["latest", "earliest"])),
        "unit": draw(st.sampled_from(["customer", "case"])),
        "by": draw(st.sampled_from([None, "channel"])),
        "attribution": draw(st.sampled_from(["first_touch", "attempt"])),
        "window": timedelta(minutes=draw(st.integers(0, 12))),
        "exclude": None if order == "any" else draw(st.sampled_from(EXCLUSIONS)),
        "step_windows": None,
        "start": None,
    }
    if order != "any" and draw(st.booleans()):
        mins = sorted(draw(st.lists(st.integers(0, 12), min_size=len(steps) - 1,
                                    max_size=len(steps) - 1)))
        q["step_windows"] = [timedelta(minutes=m) for m in mins]
    if draw(st.booleans()):
        q["start"] = draw(st.sampled_from(DST_STARTS)) + timedelta(minutes=draw(
            st.integers(0, 6)))
    return q


def journey_of(log: pd.DataFrame):
    import cjlib

    return cjlib.from_events(log, customer_id="customer", ts="ts", event="event",
                             channel="channel", case_id="case_id")


def reference(j, q: dict):
    events, customers = canonical(j)
    n = len(q["steps"])
    deadlines = [timedelta(0)] + (q["step_windows"] or [q["window"]] * (n - 1))
    if n == 1:
        deadlines = [q["window"]]
    return reference_funnel(
        events, customers, q["steps"], deadlines=deadlines, unit=q["unit"], order=q["order"],
        entry=q["entry"], attempt=q["attempt"], attribution=q["attribution"], by=q["by"],
        exclude=q["exclude"], start=q["start"],
    ), events


def kwargs_of(q: dict) -> dict:
    return {k: v for k, v in q.items() if k != "steps" and v is not None}


# CJ_EXAMPLES=500 for a longer hunt; the default keeps the file well under a minute
SETTINGS = settings(max_examples=int(os.environ.get("CJ_EXAMPLES", "35")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


