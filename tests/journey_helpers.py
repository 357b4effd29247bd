"""Shared pieces for the journey-analysis tests: building a Journey from a small frame, a
hypothesis strategy for random event logs, and slow, obviously-correct reference
implementations in plain Python / pandas that the SQL analyses are checked against.

The references read the canonical `events` relation (so they see the same event_id tie-break
as the SQL) and then walk each customer's / case's events in order with ordinary loops.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import cjlib

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
PHASES = ["awareness", "consideration", "purchase", "retention", "advocacy"]
ARROW = " → "
T0 = datetime(2024, 3, 1)


# ---------------------------------------------------------------------------- building


def journey(rows: list[dict[str, Any]] | pd.DataFrame, timezone: str = "UTC") -> Any:
    """A Journey from rows with keys customer, ts (datetime or minutes after T0), event and
    optionally channel, case_id, duration_s, score, attrs (dict), phase, kind."""
    df = pd.DataFrame(rows).copy()
    if not pd.api.types.is_datetime64_any_dtype(df["ts"]):
        df["ts"] = [T0 + timedelta(minutes=float(m)) if not isinstance(m, datetime) else m
                    for m in df["ts"]]
    columns = {}
    for name in ("channel", "case_id", "duration_s", "score", "attrs", "phase", "kind"):
        if name not in df:
            df[name] = None
        columns[name] = name
    df["attrs"] = [json.dumps(a) if isinstance(a, dict) else None for a in df["attrs"]]
    for name in ("duration_s", "score"):
        df[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
    for name in ("channel", "case_id", "attrs", "phase", "kind"):
        df[name] = df[name].astype(object)
    return cjlib.from_events(df, customer_id="customer", ts="ts", event="event",
                             timezone=timezone, **columns)


def canonical(j: Any) -> pd.DataFrame:
    """The canonical events, ordered by customer, ts, event_id (the analyses' order)."""
    ev = j.sql("SELECT * FROM events ORDER BY customer_id, ts, event_id")
    ev["attrs"] = [json.loads(a) if isinstance(a, str) else None for a in ev["attrs"]]
    return ev


def rows_of(ev: pd.DataFrame) -> list[dict[str, Any]]:
    out = ev.to_dict("records")
    for r in out:
        for k, v in r.items():
            if v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                r[k] = None
        r["ts"] = pd.Timestamp(r["ts"]).to_pydatetime()
    return out


def by_key(ev: pd.DataFrame, key: str = "customer_id") -> dict[Any, list[dict[str, Any]]]:
    """Events grouped by a key, each group in (ts, event_id) order."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows_of(ev), key=lambda r: (r["ts"], r["event_id"])):
        if r[key] is not None:
            groups[r[key]].append(r)
    return dict(groups)


# ---------------------------------------------------------------------------- strategy


EVENTS = ["a", "b", "c", "buy"]
CHANNELS = ["web", "phone", "email", None]
CASES = ["k1", "k2", "k3", None]


@st.composite
def event_logs(draw: Any, max_events: int = 24, minute_choices: int = 12, step: int = 30,
               events: list[str] = EVENTS) -> list[dict[str, Any]]:
    """A small random event log (1..max_events rows, 1..4 customers). Times are multiples of
    `step` minutes so ties occur; channels, cases, phases, durations, scores and attrs vary."""
    n = draw(st.integers(1, max_events))
    rows = []
    for _ in range(n):
        event = draw(st.sampled_from([*events, "survey"]))
        score = draw(st.integers(0, 10)) if event == "survey" else None
        attrs = None
        if event == "survey":
            attrs = draw(st.sampled_from([None, {"touchpoint": "a"}, {"touchpoint": "x"},
                                          {"touchpoint": "b"}]))
        elif draw(st.booleans()):
            attrs = {"reason": draw(st.sampled_from(["r1", "r2"]))}
        rows.append({
            "customer": draw(st.integers(1, 4)),
            "ts": draw(st.integers(0, minute_choices)) * step,
            "event": event,
            "channel": draw(st.sampled_from(CHANNELS)),
            "case_id": draw(st.sampled_from(CASES)),
            "duration_s": draw(st.sampled_from([None, 30.0, 60.0, 600.0])),
            "score": score,
            "attrs": attrs,
            "phase": draw(st.sampled_from([*PHASES[:3], None])),
            "kind": draw(st.sampled_from(["k", "other"])),
        })
    return rows


def windows() -> st.SearchStrategy[timedelta | None]:
    return st.sampled_from([None, timedelta(minutes=30), timedelta(hours=2),
                            timedelta(hours=12)])


# ---------------------------------------------------------------------------- paths


def _in_scope(event: str, events: list[str] | None, exclude: list[str] | None) -> bool:
    return (events is None or event in events) and (exclude is None or event not in exclude)


def _collapse(states: list[str]) -> list[str]:
    out: list[str] = []
    for s in states:
        if not out or out[-1] != s:
            out.append(s)
    return out


def ref_transitions(ev: pd.DataFrame, level: str, collapse: bool, start_end: bool,
                    events: list[str] | None = None,
                    exclude: list[str] | None = None) -> Counter:
    counts: Counter = Counter()
    for rows in by_key(ev).values():
        states = [r[level] for r in rows
                  if r[level] is not None and _in_scope(r["event"], events, exclude)]
        if collapse:
            states = _collapse(states)
        if not states:
            continue
        for a, b in itertools.pairwise(states):
            counts[(a, b)] += 1
        if start_end:
            counts[("(start)", states[0])] += 1
            counts[(states[-1], "(end)")] += 1
    return counts


def ref_customer_paths(ev: pd.DataFrame, level: str, conversion: str,
                       window: timedelta | None, collapse: bool, data_end: datetime,
                       events: list[str] | None = None,
                       exclude: list[str] | None = None) -> list[tuple[list[str], bool, bool]]:
    """Per customer: (states of the path, converted, in progress)."""
    out = []
    for rows in by_key(ev).values():
        scoped = [r for r in rows
                  if r["event"] == conversion or _in_scope(r["event"], events, exclude)]
        if not scoped:
            continue
        t0 = scoped[0]["ts"]
        end = t0 + window if window is not None else None
        conv_index = next((i for i, r in enumerate(scoped) if r["event"] == conversion), None)
        converted = conv_index is not None and (end is None or scoped[conv_index]["ts"] <= end)
        before = scoped[:conv_index] if converted else scoped
        states = [r[level] for r in before
                  if r["event"] != conversion and r[level] is not None
                  and (end is None or r["ts"] <= end)]
        if collapse:
            states = _collapse(states)
        open_window = end is not None and end > data_end
        out.append((states, converted, (not converted) and open_window))
    return out


def ref_variants(paths: list[tuple[list[str], bool, bool]], max_steps: int) -> dict:
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for states, converted, in_progress in paths:
        if not states:
            label = "(none)"
        else:
            label = ARROW.join(states[:max_steps]) + (ARROW + "…" if len(states) > max_steps
                                                      else "")
        row = table[label]
        row[0] += 0 if in_progress else 1
        row[1] += 1 if converted else 0
        row[2] += 1 if in_progress else 0
    return {k: tuple(v) for k, v in table.items()}


def ref_switches(paths: list[tuple[list[str], bool, bool]], max_switches: int) -> dict:
    table: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for states, converted, in_progress in paths:
        if not states:
            continue
        row = table[min(len(states) - 1, max_switches)]
        row[0] += 0 if in_progress else 1
        row[1] += 1 if converted else 0
        row[2] += 1 if in_progress else 0
    return {k: tuple(v) for k, v in table.items()}


def ref_after(ev: pd.DataFrame, after: str, unless: str | None, level: str, steps: int,
              conversion: str, window: timedelta | None, data_end: datetime,
              events: list[str] | None = None,
              exclude: list[str] | None = None) -> tuple[dict, Counter]:
    """(next path -> (customers, conversions, in progress), (position, state) -> customers)."""
    paths: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    step_counts: Counter = Counter()
    for rows in by_key(ev).values():
        scoped = [r for r in rows if r["event"] in (after, conversion, unless)
                  or _in_scope(r["event"], events, exclude)]
        anchors = [i for i, r in enumerate(scoped) if r["event"] == after]
        if not anchors:
            continue
        last = anchors[-1]
        later = scoped[last + 1:]
        if unless is not None and any(r["event"] == unless for r in later):
            continue
        t_anchor = scoped[last]["ts"]
        nxt = [r for r in later
               if r["event"] != after
               and (window is None or r["ts"] <= t_anchor + window)
               and (r["event"] == conversion or _in_scope(r["event"], events, exclude))]
        states = [r[level] if r[level] is not None else "(none)" for r in nxt]
        label = ARROW.join(states[:steps]) if states else "(nothing)"
        converted = any(r["event"] == conversion for r in nxt)
        in_progress = (not converted and window is not None and t_anchor + window > data_end)
        row = paths[label]
        row[0] += 0 if in_progress else 1
        row[1] += 1 if converted else 0
        row[2] += 1 if in_progress else 0
        for pos in range(1, steps + 1):
            step_counts[(pos, states[pos - 1] if pos <= len(states) else "(nothing)")] += 1
    return {k: tuple(v) for k, v in paths.items()}, step_counts


def ref_switch_effect(ev: pd.DataFrame, anchor: str, anchor_channel: str | None,
                      switch_event: str | None, switch_channel: str | None,
                      within: timedelta, conversion: str, window: timedelta | None,
                      before_conversion: bool, data_end: datetime) -> dict:
    table: dict[bool, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rows in by_key(ev).values():
        anchors = [r for r in rows if r["event"] == anchor
                   and (anchor_channel is None or r["channel"] == anchor_channel)]
        if not anchors:
            continue
        t0 = anchors[0]["ts"]
        convs = [r["ts"] for r in rows if r["event"] == conversion and r["ts"] >= t0
                 and (window is None or r["ts"] <= t0 + window)]
        t_conv = min(convs) if convs else None
        sws = [r["ts"] for r in rows if t0 < r["ts"] <= t0 + within
               and (switch_event is None or r["event"] == switch_event)
               and (switch_channel is None or r["channel"] == switch_channel)]
        t_switch = min(sws) if sws else None
        switched = t_switch is not None and (not before_conversion or t_conv is None
                                             or t_switch <= t_conv)
        open_window = t_conv is None and (
            (window is not None and t0 + window > data_end)
            or (t_switch is None and t0 + within > data_end))
        row = table[switched]
        row[0] += 0 if open_window else 1
        row[1] += 1 if t_conv is not None else 0
        row[2] += 1 if open_window else 0
    return {k: tuple(v) for k, v in table.items()}


# ---------------------------------------------------------------------------- process


def case_groups(ev: pd.DataFrame, case_events: list[str] | None, kinds: list[str] | None,
                require: str | None = None) -> dict[str, list[dict[str, Any]]]:
    rows = rows_of(ev)
    with_required = {r["case_id"] for r in rows if r["event"] == require}
    keep = [r for r in rows if r["case_id"] is not None
            and (case_events is None or r["event"] in case_events)
            and (kinds is None or r["kind"] in kinds)
            and (require is None or r["case_id"] in with_required)]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(keep, key=lambda r: (r["ts"], r["event_id"])):
        groups[r["case_id"]].append(r)
    return dict(groups)


def ref_dfg(cases: dict[str, list[dict[str, Any]]]) -> dict:
    """(from, to) -> (n, distinct cases, list of seconds between)."""
    pairs: dict[tuple[str, str], list] = defaultdict(lambda: [0, set(), []])
    for case_id, rows in cases.items():
        for a, b in itertools.pairwise(rows):
            p = pairs[(a["event"], b["event"])]
            p[0] += 1
            p[1].add(case_id)
            p[2].append((b["ts"] - a["ts"]).total_seconds())
    return {k: (v[0], len(v[1]), v[2]) for k, v in pairs.items()}


def ref_process_variants(cases: dict[str, list[dict[str, Any]]]) -> dict:
    """variant -> list of case durations (seconds)."""
    out: dict[str, list[float]] = defaultdict(list)
    for rows in cases.values():
        out[ARROW.join(r["event"] for r in rows)].append(
            (rows[-1]["ts"] - rows[0]["ts"]).total_seconds())
    return dict(out)


def ref_rework(cases: dict[str, list[dict[str, Any]]]) -> dict:
    """step -> (cases with it, cases repeating it, extra occurrences); '(any step)' too."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    anyrow = [0, 0, 0]
    for rows in cases.values():
        counts = Counter(r["event"] for r in rows)
        for step, c in counts.items():
            out[step][0] += 1
            out[step][1] += 1 if c > 1 else 0
            out[step][2] += c - 1
        anyrow[0] += 1
        anyrow[1] += 1 if max(counts.values()) > 1 else 0
        anyrow[2] += sum(c - 1 for c in counts.values())
    result = {k: tuple(v) for k, v in out.items()}
    if anyrow[0]:
        result["(any step)"] = tuple(anyrow)
    return result


def ref_failure(ev: pd.DataFrame, started: str, completed: str, window: timedelta | None,
                unit: str, data_end: datetime) -> dict:
    """level -> (n closed, completed, in progress), with attempts defined by the docstring of
    process_failure.sql, walked attempt by attempt."""
    key = "customer_id" if unit == "customer" else "case_id"
    levels = {"attempt": [0, 0, 0], "first attempt": [0, 0, 0], unit: [0, 0, 0]}
    for rows in by_key(ev, key).values():
        starts = [r for r in rows if r["event"] == started]
        if not starts:
            continue
        comps = [r["ts"] for r in rows if r["event"] == completed]
        outcomes = []
        for i, s in enumerate(starts):
            nxt = starts[i + 1]["ts"] if i + 1 < len(starts) else None
            done = any(c >= s["ts"] and (nxt is None or c < nxt)
                       and (window is None or c <= s["ts"] + window) for c in comps)
            open_ = (not done) and window is not None and s["ts"] + window > data_end
            outcomes.append((done, open_))
            for name in ("attempt", "first attempt") if i == 0 else ("attempt",):
                levels[name][0] += 0 if open_ else 1
                levels[name][1] += 1 if done else 0
                levels[name][2] += 1 if open_ else 0
        any_done = any(d for d, _ in outcomes)
        unit_open = (not any_done) and outcomes[-1][1]
        levels[unit][0] += 0 if unit_open else 1
        levels[unit][1] += 1 if any_done else 0
        levels[unit][2] += 1 if unit_open else 0
    return {k: tuple(v) for k, v in levels.items()}


def ref_dose(ev: pd.DataFrame, start: str, end: str, outcome: str, within: timedelta,
             anchor_end: bool, resolution_s: float, data_end: datetime) -> dict:
    """floored duration seconds (None = no end) -> (cases closed, outcomes, in progress)."""
    rows = sorted(rows_of(ev), key=lambda r: (r["ts"], r["event_id"]))
    by_customer = defaultdict(list)
    for r in rows:
        by_customer[r["customer_id"]].append(r)
    table: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    for case_id, case_rows in by_key(ev, "case_id").items():
        starts = [r for r in case_rows if r["event"] == start]
        if not starts:
            continue
        s = starts[0]
        ends = [r["ts"] for r in case_rows if r["event"] == end and r["ts"] >= s["ts"]]
        t_end = min(ends) if ends else None
        duration = (math.floor((t_end - s["ts"]).total_seconds() / resolution_s) * resolution_s
                    if t_end is not None else None)
        anchor = t_end if anchor_end else s["ts"]
        hit = anchor is not None and any(
            r["event"] == outcome and anchor <= r["ts"] <= anchor + within
            for r in by_customer[s["customer_id"]])
        open_ = anchor is not None and anchor + within > data_end
        row = table[duration]
        row[0] += 0 if open_ else 1
        row[1] += 1 if hit and not open_ else 0
        row[2] += 1 if open_ else 0
        del case_id
    return {k: tuple(v) for k, v in table.items()}


# ---------------------------------------------------------------------------- touchpoints


def ref_touchpoints(ev: pd.DataFrame, by: str, attr: str | None, survey_event: str,
                    link: str, labels: dict[str, str], link_window: timedelta | None,
                    events: list[str] | None = None,
                    exclude: list[str] | None = None) -> dict:
    """touchpoint -> dict(volume, customers, n_duration, mean_duration_s, surveys, scores)."""
    def key(r: dict[str, Any]) -> str:
        extra = (r["attrs"] or {}).get(attr) if attr else None
        return r[by] if extra is None else f"{r[by]}/{extra}"

    def is_touch(r: dict[str, Any]) -> bool:
        return (r["event"] != survey_event and r[by] is not None
                and _in_scope(r["event"], events, exclude))

    known = {key(r) for r in rows_of(ev) if is_touch(r)}
    out: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {"volume": 0, "customers": set(), "durations": [], "scores": []})
    for rows in by_key(ev).values():
        for r in rows:
            if is_touch(r):
                tp = key(r)
                out[tp]["volume"] += 1
                out[tp]["customers"].add(r["customer_id"])
                if r["duration_s"] is not None:
                    out[tp]["durations"].append(r["duration_s"])
        touches = [(r["ts"], r["event_id"], key(r)) for r in rows if is_touch(r)]
        for r in rows:
            if r["event"] != survey_event or r["score"] is None:
                continue
            label = (r["attrs"] or {}).get("touchpoint")
            own = labels.get(label, label) if label is not None else None
            # the last touch at or before the survey, in (ts, event_id) order
            before = [t for t in touches if t[0] <= r["ts"]]
            last = before[-1] if before else None
            if link == "attr" or (link == "auto" and own in known):
                tp = own
            elif last is not None and (link_window is None or r["ts"] <= last[0] + link_window):
                tp = last[2]
            else:
                tp = None
            out[tp]["scores"].append(r["score"])
    result = {}
    for tp, v in out.items():
        result[tp] = {"volume": v["volume"], "customers": len(v["customers"]),
                      "n_duration": len(v["durations"]),
                      "mean_duration_s": float(np.mean(v["durations"])) if v["durations"]
                      else None,
                      "surveys": len(v["scores"]),
                      "mean_score": float(np.mean(v["scores"])) if v["scores"] else None}
    return result


# ---------------------------------------------------------------------------- retention


def local(ts: datetime, tz: str) -> pd.Timestamp:
    return pd.Timestamp(ts).tz_localize("UTC").tz_convert(tz).tz_localize(None)


def trunc(ts: pd.Timestamp, period: str) -> pd.Timestamp:
    day = ts.normalize()
    if period == "day":
        return day
    if period == "week":
        return day - pd.Timedelta(days=day.weekday())
    return day.replace(day=1)


def add_periods(ts: pd.Timestamp, k: int, period: str) -> pd.Timestamp:
    if period == "month":
        return ts + pd.DateOffset(months=k)
    return ts + pd.Timedelta(days=k * (7 if period == "week" else 1))


def period_index(cohort: pd.Timestamp, ts: pd.Timestamp, period: str) -> int:
    """How many whole calendar periods after `cohort` the period of `ts` starts (by walking)."""
    start = trunc(ts, period)
    k = 0
    while add_periods(cohort, k, period) < start:
        k += 1
    while add_periods(cohort, k, period) > start:
        k -= 1
    return k


def ref_retention(ev: pd.DataFrame, start_event: str | None, return_event: str | None,
                  first: bool, period: str, rolling: bool, tz: str, data_end: datetime,
                  max_periods: int) -> dict:
    """(cohort, k) -> (cohort_size, retained, retained_on_or_after, eligible)."""
    p_len = timedelta(days=1 if period == "day" else 7)
    end_local = local(data_end, tz)
    members = []  # (cohort, t0, set of ks, k_last)
    for rows in by_key(ev).values():
        rows = [r for r in rows if r["ts"] <= data_end]
        starts = [r for r in rows if start_event is None or r["event"] == start_event]
        if not starts:
            continue
        memberships: dict[pd.Timestamp, datetime] = {}
        for r in (starts[:1] if first else starts):
            c = trunc(local(r["ts"], tz), period)
            memberships.setdefault(c, r["ts"])
        returns = [r for r in rows if return_event is None or r["event"] == return_event]
        for cohort, t0 in memberships.items():
            ks = set()
            for r in returns:
                if r["ts"] < t0:
                    continue
                if rolling:
                    ks.add(int((r["ts"] - t0) // p_len))
                else:
                    ks.add(period_index(cohort, local(r["ts"], tz), period))
            if rolling:
                complete_ks = int((data_end - t0) // p_len) - 1
                k_last = complete_ks + 1
            else:
                k_last = period_index(cohort, end_local, period)
            members.append((cohort, t0, ks, k_last))
    out = {}
    for cohort in {m[0] for m in members}:
        group = [m for m in members if m[0] == cohort]
        size = len(group)
        k_top = min(max(m[3] for m in group), max_periods)
        for k in range(k_top + 1):
            if k == 0:
                retained = ooa = size
            else:
                retained = sum(1 for m in group if k in m[2])
                ooa = sum(1 for m in group if any(x >= k for x in m[2]))
            if rolling:
                eligible = sum(1 for m in group if m[1] + (k + 1) * p_len <= data_end)
            else:
                eligible = size if add_periods(cohort, k + 1, period) <= end_local else 0
            out[(cohort, k)] = (size, retained, ooa, eligible)
    return out


def ref_lifecycle(ev: pd.DataFrame, event: str | None, period: str, tz: str,
                  data_end: datetime) -> dict:
    """(period start, state) -> customers, by walking every period for every customer."""
    end_period = trunc(local(data_end, tz), period)
    active: dict[int, set[pd.Timestamp]] = defaultdict(set)
    for r in rows_of(ev):
        if (event is None or r["event"] == event) and r["ts"] <= data_end:
            active[r["customer_id"]].add(trunc(local(r["ts"], tz), period))
    if not active:
        return {}
    first_all = min(min(v) for v in active.values())
    out: Counter = Counter()
    p = first_all
    while p <= end_period:
        prev = add_periods(p, -1, period)
        for periods in active.values():
            first = min(periods)
            if p in periods:
                if p == first:
                    out[(p, "new")] += 1
                elif prev in periods:
                    out[(p, "returning")] += 1
                else:
                    out[(p, "resurrecting")] += 1
            elif prev in periods:
                out[(p, "dormant")] += 1
        p = add_periods(p, 1, period)
    return dict(out)


def ref_phases(ev: pd.DataFrame) -> dict:
    """phase -> (customers, runs, left runs, list of dwell seconds)."""
    out: dict[str, list] = defaultdict(lambda: [set(), 0, 0, []])
    for cid, rows in by_key(ev).items():
        phased = [r for r in rows if r["phase"] is not None]
        runs = []
        for r in phased:
            if not runs or runs[-1][0] != r["phase"]:
                runs.append((r["phase"], r["ts"]))
        for i, (phase, t_enter) in enumerate(runs):
            row = out[phase]
            row[0].add(cid)
            row[1] += 1
            if i + 1 < len(runs):
                row[2] += 1
                row[3].append((runs[i + 1][1] - t_enter).total_seconds())
    return {k: (len(v[0]), v[1], v[2], v[3]) for k, v in out.items()}


def quantile(values: list[float], q: float) -> float | None:
    """Linear-interpolation quantile (the definition of DuckDB's quantile_cont)."""
    return float(np.quantile(values, q)) if values else None


def close(a: Any, b: Any, tol: float = 1e-6) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))
