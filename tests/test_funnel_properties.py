"""Property tests: the funnel SQL agrees with the plain-Python reference on random event logs.

The logs are built to hit the awkward cases: ties (timestamps on a coarse minute grid), repeated
steps and overlapping step filters, exclusions, censoring (short windows near the data end),
one customer, cases without ids, and timestamps around the 2024 UK DST changes (windows are
exact durations on UTC, so nothing may shift there).
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given

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
