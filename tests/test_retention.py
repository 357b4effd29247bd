"""Retention, lifecycle and journey phases.

Hand-written cases per rule (periods in the client's time zone, on vs on-or-after, incomplete
periods, rolling periods, recurring cohorts, lifecycle states, phase dwell), and hypothesis
checks of the SQL against the period-walking references in journey_helpers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjlib.analyses.retention import lifecycle, phases, retention
from tests.journey_helpers import (
    canonical,
    close,
    event_logs,
    journey,
    quantile,
    ref_lifecycle,
    ref_phases,
    ref_retention,
)

FAST = settings(max_examples=20, deadline=None)
MON = datetime(2024, 3, 4, 12, 0)  # a Monday, noon UTC


def _cells(result) -> dict:
    return {(pd.Timestamp(r.cohort), r.period): r for r in result.df.itertuples()}


def _act(customer: int, ts: datetime, event: str = "a", **kw) -> dict:
    return {"customer": customer, "ts": ts, "event": event, **kw}


# ---------------------------------------------------------------------------- retention


def test_period_zero_is_everyone():
    j = journey([_act(1, MON), _act(2, MON + timedelta(days=1)), _act(3, MON + timedelta(days=9))])
    df = retention(j, period="week").df
    zero = df[df.period == 0]
    assert (zero.rate == 1.0).all() and (zero.retained == zero.cohort_size).all()


def test_on_versus_on_or_after():
    week = timedelta(weeks=1)
    j = journey([_act(1, MON), _act(1, MON + 2 * week), _act(2, MON), _act(2, MON + week),
                 _act(3, MON + 5 * week)])
    cells = _cells(retention(j, period="week"))
    cohort = pd.Timestamp("2024-03-04")
    assert [cells[(cohort, k)].rate_on for k in (1, 2, 3)] == [0.5, 0.5, 0.0]
    assert [cells[(cohort, k)].rate_on_or_after for k in (1, 2, 3)] == [1.0, 0.5, 0.0]
    ooa = retention(j, period="week", mode="on_or_after").df
    assert ooa[(ooa.cohort == cohort) & (ooa.period == 1)].rate.iloc[0] == 1.0


def test_incomplete_period_is_flagged_not_a_drop():
    # data end on Wednesday of week 1: week 1 has not ended
    j = journey([_act(1, MON), _act(2, MON), _act(1, MON + timedelta(days=9))])
    row = _cells(retention(j, period="week"))[(pd.Timestamp("2024-03-04"), 1)]
    assert not row.complete and np.isnan(row.rate) and row.rate_so_far == 0.5


def test_calendar_periods_use_the_client_time_zone():
    late = datetime(2024, 7, 1, 23, 30)                       # 00:30 on 2 July in London
    rows = [_act(1, late), _act(1, datetime(2024, 7, 2, 22, 0)), _act(2, datetime(2024, 7, 9))]
    utc = _cells(retention(journey(rows), period="day"))
    london = _cells(retention(journey(rows, timezone="Europe/London"), period="day"))
    assert utc[(pd.Timestamp("2024-07-01"), 1)].retained == 1
    assert (pd.Timestamp("2024-07-02"), 0) in london
    assert london[(pd.Timestamp("2024-07-02"), 1)].retained == 0   # same London day


def test_weeks_start_on_monday():
    sunday = datetime(2024, 3, 3, 12)
    j = journey([_act(1, sunday), _act(1, sunday + timedelta(days=1)),
                 _act(2, MON + timedelta(30))])
    assert _cells(retention(j, period="week"))[(pd.Timestamp("2024-02-26"), 1)].retained == 1


def test_month_periods():
    j = journey([_act(1, datetime(2024, 1, 31, 9)), _act(1, datetime(2024, 2, 1, 9)),
                 _act(2, datetime(2024, 5, 1))])
    cells = _cells(retention(j, period="month"))
    assert cells[(pd.Timestamp("2024-01-01"), 1)].retained == 1
    assert cells[(pd.Timestamp("2024-01-01"), 1)].period_start == pd.Timestamp("2024-02-01")


def test_rolling_24h_periods_from_each_start():
    start = datetime(2024, 3, 4, 10)
    rows = [_act(1, start), _act(1, start + timedelta(hours=23)), _act(2, start + timedelta(5))]
    rolling = _cells(retention(journey(rows), period="day", rolling=True))
    calendar = _cells(retention(journey(rows), period="day"))
    cohort = pd.Timestamp("2024-03-04")
    assert rolling[(cohort, 1)].retained == 0      # 23 h after the start: still period 0
    assert calendar[(cohort, 1)].retained == 1     # but the next calendar day


def test_recurring_cohorts_count_every_start_period():
    week = timedelta(weeks=1)
    rows = [_act(1, MON, "s"), _act(1, MON + 2 * week, "s"), _act(1, MON + 3 * week, "r"),
            _act(2, MON + 6 * week, "x")]
    first = retention(journey(rows), "s", "r", period="week").df
    recurring = retention(journey(rows), "s", "r", cohort="any", period="week").df
    assert first.cohort.nunique() == 1
    cells = {(pd.Timestamp(r.cohort), r.period): r.retained for r in recurring.itertuples()}
    assert cells[(pd.Timestamp("2024-03-04"), 3)] == 1
    assert cells[(pd.Timestamp("2024-03-18"), 1)] == 1


def test_start_and_return_events():
    day = timedelta(days=1)
    rows = [_act(1, MON, "x"), _act(1, MON + day, "s"), _act(1, MON + 2 * day, "x"),
            _act(1, MON + 3 * day, "r"), _act(2, MON + 9 * day, "x")]
    cells = _cells(retention(journey(rows), "s", "r", period="day"))
    cohort = pd.Timestamp("2024-03-05")
    assert [cells[(cohort, k)].retained for k in (1, 2)] == [0, 1]


def test_curve_pools_complete_cohorts():
    week = timedelta(weeks=1)
    rows = [_act(1, MON), _act(1, MON + week), _act(2, MON), _act(3, MON + week),
            _act(3, MON + 2 * week), _act(4, MON + 3 * week + timedelta(days=3))]
    curve = retention(journey(rows), period="week").tables["curve"].set_index("period")
    # data end: Thursday of week 3. Week 1 is complete for the cohorts of weeks 0 (1 of 2
    # back) and 1 (1 of 1); week 2 only for the cohort of week 0 (0 of 2)
    assert (curve.loc[1, "retained"], curve.loc[1, "customers"]) == (2, 3)
    assert (curve.loc[2, "retained"], curve.loc[2, "customers"]) == (0, 2)


@FAST
@given(st.sampled_from([("day", 240), ("week", 1440 * 2), ("month", 1440 * 4)]),
       st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]),
       st.booleans(), st.booleans(), st.sampled_from([None, "a"]), st.data())
def test_retention_matches_reference(period_step, tz, first, rolling, start, data):
    period, step = period_step
    rows = data.draw(event_logs(minute_choices=40, step=step))
    if rolling and period == "month":
        rolling = False
    j = journey(rows, timezone=tz)
    res = retention(j, start, "b", cohort="first" if first else "any", period=period,
                    rolling=rolling, max_periods=6)
    want = ref_retention(canonical(j), start, "b", first, period, rolling, tz,
                         res.params["data_end"], 6)
    got = {(pd.Timestamp(r.cohort), r.period):
           (r.cohort_size, r.retained, r.retained_on_or_after, r.eligible)
           for r in res.df.itertuples()}
    assert got == want


# ---------------------------------------------------------------------------- lifecycle


def test_lifecycle_states():
    def month(m: int) -> datetime:
        return datetime(2024, m, 10)

    rows = [_act(1, month(1)), _act(1, month(2)), _act(1, month(4)), _act(2, month(2)),
            _act(3, datetime(2024, 7, 1))]
    df = lifecycle(journey(rows), period="month").df
    got = {(pd.Timestamp(r.period_start).month, r.state): r.customers for r in df.itertuples()}
    assert got == {(1, "new"): 1, (2, "returning"): 1, (2, "new"): 1, (3, "dormant"): 2,
                   (4, "resurrecting"): 1, (5, "dormant"): 1, (7, "new"): 1}
    wide = lifecycle(journey(rows), period="month").tables["wide"].set_index("period_start")
    assert wide.loc[pd.Timestamp("2024-02-01"), "active"] == 2


def test_lifecycle_current_period_is_incomplete():
    rows = [_act(1, MON), _act(1, MON + timedelta(days=8))]
    df = lifecycle(journey(rows), period="week").df
    assert df.sort_values("period_start").complete.tolist() == [True, False]


@FAST
@given(st.sampled_from([("day", 240), ("week", 1440 * 2), ("month", 1440 * 4)]),
       st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]),
       st.sampled_from([None, "a"]), st.data())
def test_lifecycle_matches_reference(period_step, tz, event, data):
    period, step = period_step
    j = journey(data.draw(event_logs(minute_choices=40, step=step)), timezone=tz)
    res = lifecycle(j, event, period=period)
    got = {(pd.Timestamp(r.period_start), r.state): r.customers for r in res.df.itertuples()}
    assert got == ref_lifecycle(canonical(j), event, period, tz, res.params["data_end"])


# ---------------------------------------------------------------------------- phases


def test_phase_dwell_and_transitions():
    hour = timedelta(hours=1)
    rows = [_act(1, MON, phase="awareness"), _act(1, MON + hour, phase="awareness"),
            _act(1, MON + 3 * hour, phase="consideration"), _act(1, MON + 4 * hour, phase=None),
            _act(1, MON + 5 * hour, phase="awareness"),
            _act(2, MON, phase="awareness"), _act(2, MON + 2 * hour, phase="purchase")]
    res = phases(journey(rows))
    df = res.df.set_index("phase")
    assert df.loc["awareness", ["customers", "runs", "left_runs", "open_runs"]].tolist() == [
        2, 3, 2, 1]
    assert df.loc["awareness", "median_dwell_s"] == pytest.approx(2.5 * 3600)  # 3 h and 2 h
    assert df.loc["consideration", "median_dwell_s"] == pytest.approx(2 * 3600)
    assert list(df.index) == ["awareness", "consideration", "purchase"]
    t = res.tables["transitions"].set_index(["from_state", "to_state"])
    assert t.loc[("consideration", "awareness"), "direction"] == "back"
    assert t.loc[("awareness", "consideration"), "direction"] == "forward"
    assert t.loc[("awareness", "consideration"), "n"] == 1


@FAST
@given(event_logs())
def test_phases_match_reference(rows):
    j = journey(rows)
    df = phases(j).df.set_index("phase")
    want = ref_phases(canonical(j))
    assert set(df.index) == set(want)
    for phase, (customers, runs, left, dwell) in want.items():
        row = df.loc[phase]
        assert (row.customers, row.runs, row.left_runs) == (customers, runs, left)
        assert close(row.median_dwell_s, quantile(dwell, 0.5))
        assert close(row.mean_dwell_s, float(np.mean(dwell)) if dwell else None)


def test_charts_draw_from_the_result_only():
    week = timedelta(weeks=1)
    rows = [_act(1, MON, phase="awareness"), _act(1, MON + week, phase="purchase"),
            _act(2, MON + week, phase="awareness"), _act(2, MON + 3 * week + timedelta(days=2))]
    j = journey(rows)
    results = [retention(j, period="week"), lifecycle(j, period="week"), phases(j)]
    j.con.close()
    for res in results:
        assert "$schema" in res.chart().to_dict()
