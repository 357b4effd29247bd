"""Shared by the dashboard and serve tests: an independent pandas reference for the dashboard's
headline figures under a filter selection, and the headless Chromium settings."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def frames(journey: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The input data as pandas frames: every event and every customer (unfiltered)."""
    events = journey.sql("SELECT customer_id, ts, event, channel, value FROM events")
    customers = journey.sql("SELECT customer_id, first_seen, segment, source FROM customers")
    return events, customers


def expected_overview(
    events: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    segment: str | None = None,
    channel: str | None = None,
    source: str | None = None,
    case_event: str = "quote",
    conversion_event: str = "purchase",
) -> dict[str, float]:
    """The headline figures computed in plain pandas from the filter rules as documented:
    customers first seen on or after `start` and on or before `end` (whole days), of the segment
    and acquisition source; `channel` keeps only that channel's events."""
    people = customers
    if start is not None:
        people = people[people.first_seen >= pd.Timestamp(start)]
    if end is not None:
        people = people[people.first_seen < pd.Timestamp(end + timedelta(days=1))]
    if segment is not None:
        people = people[people.segment == segment]
    if source is not None:
        people = people[people.source == source]
    acts = events[events.customer_id.isin(set(people.customer_id))]
    if channel is not None:
        acts = acts[acts.channel == channel]
    cased = set(acts.loc[acts.event == case_event, "customer_id"])
    converted = set(acts.loc[acts.event == conversion_event, "customer_id"])
    value = float(acts.loc[acts.event == conversion_event, "value"].fillna(0).sum())
    return {
        "customers": float(len(people)),
        "with_case": float(len(cased)),
        "converted": float(len(converted)),
        "conversion": (len(cased & converted) / len(cased)) if cased else float("nan"),
        "value": value,
    }
