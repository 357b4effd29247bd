"""Each run's key measures (metrics.json) and what changed since the previous run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import nbformat
import pandas as pd

from cjlib.report.nuggets import NUGGETS_MIME, nugget_rows

if TYPE_CHECKING:
    from cjlib.journey import Journey

_RATE_COLUMNS = ("rate_overall", "overall_rate", "overall_conversion", "conversion", "rate")


def _measure(label: str, value: Any, kind: str = "int") -> dict[str, Any]:
    return {"label": label, "value": value, "kind": kind}


def collect_measures(journey: Journey, funnel_steps: list[str] | None = None) -> dict[str, Any]:
    """Key measures of the client's data (and its overall funnel conversion when the funnel
    analysis exists). Each measure is computed on its own: one failing leaves the others."""
    from cjlib.analyses import health

    measures: dict[str, Any] = {}
    try:
        row = health.overview(journey).df.iloc[0]
        measures.update({
            "events": _measure("Events", int(row.events)),
            "customers": _measure("Customers", int(row.customers)),
            "files": _measure("Files received", int(row.files)),
            "rows_read": _measure("Rows read", int(row.rows_read)),
            "rows_rejected": _measure("Rows set aside", int(row.rejected)),
            "rows_duplicate": _measure("Duplicate rows", int(row.duplicates)),
            "usable_share": _measure("Rows usable", float(row.accepted_share), "pct"),
            "first_event": _measure("First event", str(row.first_ts)[:10], "date"),
            "last_event": _measure("Last event", str(row.last_ts)[:10], "date"),
        })
    except Exception:  # a measure must never fail a run
        pass
    try:
        reach = health.stitching(journey).tables["reach"]
        total = reach["customers"].sum()
        multi = reach.loc[reach["n_feeds"] > 1, "customers"].sum()
        if total:
            measures["multi_system_share"] = _measure(
                "Customers seen in more than one system", float(multi / total), "pct")
    except Exception:
        pass
    if funnel_steps:
        rate = _funnel_rate(journey, funnel_steps)
        if rate is not None:
            label = "Conversion " + " → ".join(str(s) for s in funnel_steps)
            measures["funnel_conversion"] = _measure(label, rate, "pct")
    return measures


def _funnel_rate(journey: Journey, steps: list[str]) -> float | None:
    from cjlib.batch.notebooks import missing_modules

    if missing_modules(("cjlib.analyses.funnel",)):
        return None
    try:
        frame = journey.funnel(list(steps)).df
    except Exception:
        return None
    for column in _RATE_COLUMNS:
        if column in frame.columns and len(frame):
            value = pd.to_numeric(frame[column], errors="coerce").dropna()
            if len(value):
                return float(value.iloc[-1])
    return None


def nuggets_from_outputs(executed: list[nbformat.NotebookNode]) -> list[dict[str, Any]] | None:
    """The ranked findings a notebook displayed (report.show_nuggets tags its output with a
    cjkit mime type); None when no notebook showed any."""
    for nb in executed:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if NUGGETS_MIME in data:
                    payload = data[NUGGETS_MIME]
                    return nugget_rows(payload.get("nuggets", payload)
                                       if isinstance(payload, dict) else payload)
    return None


# ------------------------------------------------------------------------------ diff


@dataclass
class Change:
    """One line of the run-to-run comparison."""

    label: str
    before: str
    after: str
    change: str
    css: str = ""


def format_measure(kind: str, value: Any) -> str:
    """A measure as a reader sees it (1,234; 12.3%; 2025-01-31)."""
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.0f}"
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Measures that appeared, disappeared or moved, then findings that appeared, disappeared
    or changed rank (only when both runs scanned for findings: `nuggets` is None otherwise)."""
    changes: list[Change] = []
    old, new = before.get("measures", {}), after.get("measures", {})
    for key, m in new.items():
        kind = m.get("kind", "int")
        if key not in old:
            changes.append(Change(m["label"], "–", format_measure(kind, m["value"]), "new measure"))
            continue
        was = old[key]["value"]
        now = m["value"]
        if was == now:
            continue
        if isinstance(was, int | float) and isinstance(now, int | float):
            delta = now - was
            if kind == "pct":
                text = f"{delta * 100:+.1f} points"
            else:
                rel = f" ({delta / was:+.1%})" if was and math.isfinite(delta / was) else ""
                text = f"{delta:+,.0f}{rel}" if kind == "int" else f"{delta:+,.3g}{rel}"
            css = "cj-up" if delta > 0 else "cj-down"
        else:
            text, css = "changed", ""
        changes.append(Change(m["label"], format_measure(kind, was), format_measure(kind, now),
                              text, css))
    for key, m in old.items():
        if key not in new:
            changes.append(Change(m["label"], format_measure(m.get("kind", "int"), m["value"]), "–",
                                  "no longer measured"))
    if before.get("nuggets") is not None and after.get("nuggets") is not None:
        changes += _nugget_changes(before["nuggets"], after["nuggets"])  # both runs scanned
    return changes


def _nugget_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    changes = []
    old_rank = {n["key"]: n for n in old}
    new_rank = {n["key"]: n for n in new}
    for key, n in new_rank.items():
        label = f"Finding: {n['headline']}"
        if key not in old_rank:
            changes.append(Change(label, "–", f"#{n['rank']}", "new finding", "cj-up"))
        elif old_rank[key]["rank"] != n["rank"]:
            was = old_rank[key]["rank"]
            changes.append(Change(label, f"#{was}", f"#{n['rank']}",
                                  "moved up" if n["rank"] < was else "moved down",
                                  "cj-up" if n["rank"] < was else "cj-down"))
    for key, n in old_rank.items():
        if key not in new_rank:
            changes.append(Change(f"Finding: {n['headline']}", f"#{n['rank']}", "–",
                                  "no longer found", "cj-down"))
    return changes
