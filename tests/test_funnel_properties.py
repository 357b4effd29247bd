"""Property tests: the funnel SQL agrees with the plain-Python reference on random event logs.

The logs are built to hit the awkward cases: ties (timestamps on a coarse minute grid), repeated
steps and overlapping step filters, exclusions, censoring (short windows near the data end),
one customer, cases without ids, and timestamps around the 2024 UK DST changes (windows are
exact durations on UTC, so nothing may shift there).
"""

from __future__ import annotations

from unittest.mock import patch

import pandas as pd
from hypothesis import assume, given

import cjlib
from cjlib.analyses import funnel, sqlfiles
from tests.conversion_helpers import (
    SETTINGS,
    event_logs,
    journey_of,
    kwargs_of,
    questions,
    reference,
    reference_counts,
)


@SETTINGS
@given(log=event_logs(), q=questions())
def test_funnel_sql_agrees_with_reference(log: pd.DataFrame, q: dict) -> None:
    j = journey_of(log)
    res = j.funnel(q["steps"], **kwargs_of(q))
    raw = res.tables["raw"]
    got = raw[raw["kind"] == "step"][["grp", "step", "reached", "stopped_open",
                                      "stopped_closed"]].reset_index(drop=True)
    ref, _ = reference(j, q)
    want = reference_counts(ref, len(q["steps"]))
    assert got.astype(str).values.tolist() == want.astype(str).values.tolist()
    # the reported columns add up: entered = reached + dropped + in_progress at every step
    df = res.df
    assert (df["entered"] == df["reached"] + df["dropped"] + df["in_progress"]).all()
    assert (df["dropped"] >= 0).all() and (df["in_progress"] >= 0).all()


@SETTINGS
@given(log=event_logs(), q=questions())
def test_fast_chain_gives_the_general_chains_detail(log: pd.DataFrame, q: dict) -> None:
    """The as-of fast path (ordered steps, all different events) returns the recursive chain's
    raw rows exactly, detail included: the counted attempts' step values, times from the entry
    and from the previous step, and the Kaplan-Meier durations (the reference above checks
    counts only)."""
    steps = q["steps"]
    events = [s["event"] if isinstance(s, dict) else s for s in steps]
    assume(len(set(events)) == len(events))
    q = {**q, "order": "ordered"}
    # values with ties and gaps, so the value of the event an attempt takes is checked too
    log = log.assign(value=[None if i % 4 == 3 else float(i % 5) for i in range(len(log))])
    j = cjlib.from_events(log, customer_id="customer", ts="ts", event="event",
                          channel="channel", case_id="case_id", value="value")
    spec = funnel.resolve(j, steps, **kwargs_of(q))
    fast, sql, _ = funnel.run(j, spec, detail=True)
    assert "step_events" in sql  # the fast path was taken
    with patch.object(funnel, "chain_sql", lambda spec: sqlfiles.render("funnel_chain_general")):
        general, sql, _ = funnel.run(j, spec, detail=True)
    assert "step_events" not in sql
    pd.testing.assert_frame_equal(fast, general)
