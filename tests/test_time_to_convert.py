"""Time to convert: hand-made cases, the Kaplan-Meier estimator against statsmodels, and the SQL
against the plain-Python reference on random event logs (the generators of
test_funnel_properties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

from cjlib.analyses.conversion_common import ArgumentError
from cjlib.analyses.conversion_stats import kaplan_meier
from tests.conversion_helpers import (
    SETTINGS,
    event_logs,
    journey_of,
    kwargs_of,
    make_journey,
    quantile,
    questions,
    reference,
    reference_durations,
    reference_km,
    reference_km_input,
)

DAY = 86400.0


def test_quantiles_of_time_to_each_step_by_hand():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "b"), (1, "2024-01-05", "c"),
        (2, "2024-01-01", "a"), (2, "2024-01-03", "b"), (2, "2024-01-04", "c"),
        (3, "2024-01-01", "a"), (3, "2024-01-11", "b"),
        (9, "2024-06-01", "z"),
    ])
    df = j.time_to_convert(["a", "b", "c"]).df.set_index("step_name")
    assert df.loc["b", "n"] == 3
    assert df.loc["b", "median_s"] == 2 * DAY                 # 1, 2, 10 days
    assert df.loc["b", "mean_s"] == pytest.approx(13 / 3 * DAY)
    assert df.loc["c", "n"] == 2
    assert df.loc["c", "median_s"] == 3.5 * DAY               # 4 and 3 days from the entry
    assert df.loc["c", "median_step_s"] == 2 * DAY            # 3 and 1 days from step b
    assert df.loc["c", "p25_s"] == quantile([4 * DAY, 3 * DAY], 0.25)


def test_counted_attempt_is_the_one_that_reached_furthest():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "b"),                        # reaches b only
        (1, "2024-03-01", "a"), (1, "2024-03-05", "b"), (1, "2024-03-06", "c"),  # reaches c
        (9, "2024-06-01", "z"),
    ])
    df = j.time_to_convert(["a", "b", "c"]).df.set_index("step_name")
    assert df.loc["b", "median_s"] == 4 * DAY


def test_km_censors_at_window_or_data_end():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-03", "b"),   # converts at 2 days
        (2, "2024-01-01", "a"),                            # censored at the 10-day window
        (3, "2024-01-20", "a"),                            # censored at the data end (5 days)
        (4, "2024-01-01", "a"), (4, "2024-01-08", "b"),   # converts at 7 days
        (9, "2024-01-25", "z"),
    ])
    km = j.time_to_convert(["a", "b"], window="10d").tables["km"]
    assert km["t_s"].tolist() == [0, 2 * DAY, 7 * DAY]
    # 4 at risk at 2 days; at 7 days 2 remain (one censored at 5 days)
    assert km["survival"].tolist() == pytest.approx([1, 3 / 4, 3 / 4 * 1 / 2])


def test_kaplan_meier_matches_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(7)
    t = rng.integers(1, 30, 300).astype(float)
    d = rng.random(300) < 0.6
    agg = pd.DataFrame({"t": t, "d": d}).groupby("t")["d"].agg(["sum", "count"])
    km = kaplan_meier(agg.index.to_numpy(), agg["sum"].to_numpy(),
                      (agg["count"] - agg["sum"]).to_numpy()).iloc[1:]
    sm = SurvfuncRight(t, d.astype(int))
    assert km["t_s"].tolist() == sm.surv_times.tolist()
    assert np.allclose(km["survival"], sm.surv_prob)
    assert np.allclose(km["se"], sm.surv_prob_se)
    assert ((km["survival_low"] <= km["survival"]) & (km["survival"] <= km["survival_high"])).all()


def test_any_order_has_no_time_to_convert():
    j = make_journey([(1, "2024-01-01", "a")])
    with pytest.raises(ArgumentError):
        j.time_to_convert(["a", "b"], order="any")


@SETTINGS
@given(log=event_logs(), q=questions().filter(lambda q: q["order"] != "any"))
def test_time_to_convert_agrees_with_reference(log: pd.DataFrame, q: dict) -> None:
    j = journey_of(log)
    n = len(q["steps"])
    q = {**q, "by": None}
    res = j.time_to_convert(q["steps"], **kwargs_of(q))
    ref, events = reference(j, q)
    durations = reference_durations(ref, n)
    for k in range(2, n + 1):
        row = res.df[res.df["step"] == k].iloc[0]
        assert row["n"] == len(durations[k])
        if durations[k]:
            assert row["median_s"] == quantile(durations[k], 0.5)
            assert row["p95_s"] == quantile(durations[k], 0.95)
            assert np.isclose(row["mean_s"], np.mean(durations[k]))
    window = (q["step_windows"] or [q["window"]])[-1]
    data_end = pd.Timestamp(events["ts"].max()).to_pydatetime()
    want = reference_km(reference_km_input(ref, n, window, data_end))
    got = res.tables["km"].iloc[1:]  # after the t=0, survival 1 starting row
    assert got["t_s"].tolist() == want["t"].tolist()
    assert np.allclose(got["survival"].to_numpy(dtype=float), want["survival"].to_numpy())
