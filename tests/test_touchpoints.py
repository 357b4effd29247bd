"""Touchpoints: volume, duration, survey satisfaction linking, and the pain score.

Hand-written cases per rule, a hypothesis check against the plain-Python reference in
journey_helpers, and the sample client's planted pain point (complaint calls).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cjlib.analyses.touchpoints import touchpoints
from tests.journey_helpers import canonical, close, event_logs, journey, ref_touchpoints

FAST = settings(max_examples=25, deadline=None)


def _rows() -> list[dict]:
    return [
        {"customer": 1, "ts": 0, "event": "call", "duration_s": 600, "attrs": {"reason": "c"}},
        {"customer": 1, "ts": 10, "event": "call", "duration_s": 1200, "attrs": {"reason": "s"}},
        {"customer": 2, "ts": 0, "event": "call", "duration_s": None},
        {"customer": 2, "ts": 5, "event": "web"},
        {"customer": 1, "ts": 20, "event": "survey", "score": 2},
        {"customer": 2, "ts": 5, "event": "survey", "score": 9},
    ]


def test_volume_customers_and_duration_per_touchpoint():
    df = touchpoints(journey(_rows()), link="last").df.set_index("touchpoint")
    assert df.loc["call", ["volume", "customers", "n_duration"]].tolist() == [3, 2, 2]
    assert df.loc["call", "mean_duration_s"] == pytest.approx(900)
    assert "survey" not in df.index


def test_attr_appends_the_attribute_value():
    df = touchpoints(journey(_rows()), attr="reason", link="last").df.set_index("touchpoint")
    assert set(df.index) == {"call/c", "call/s", "call", "web"}
    assert df.loc["call/s", "mean_duration_s"] == 1200


def test_survey_linked_to_last_touchpoint_at_or_before_it():
    # customer 2's survey shares its minute with the web event: the web event counts
    df = touchpoints(journey(_rows()), link="last").df.set_index("touchpoint")
    assert df.loc["call", "surveys"] == 1 and df.loc["call", "mean_score"] == 2
    assert df.loc["web", "surveys"] == 1 and df.loc["web", "mean_score"] == 9


def test_link_window_drops_stale_touchpoints():
    res = touchpoints(journey(_rows()), link="last", link_window="5m")
    df = res.df.set_index("touchpoint")
    assert df.loc["call", "surveys"] == 0          # 10 minutes after the last call
    assert res.params["unlinked_surveys"] == 1


def test_survey_linked_by_its_own_label():
    rows = [*_rows(), {"customer": 2, "ts": 30, "event": "survey", "score": 4,
                       "attrs": {"touchpoint": "phone_call"}}]
    res = touchpoints(journey(rows), link="attr", labels={"phone_call": "call"})
    df = res.df.set_index("touchpoint")
    assert df.loc["call", "surveys"] == 1 and df.loc["call", "mean_score"] == 4
    assert res.params["unlinked_surveys"] == 2     # the two surveys without a label


def test_auto_prefers_the_label_then_the_last_touchpoint():
    rows = [*_rows(), {"customer": 2, "ts": 30, "event": "survey", "score": 4,
                       "attrs": {"touchpoint": "call"}},
            {"customer": 2, "ts": 31, "event": "survey", "score": 6,
             "attrs": {"touchpoint": "no_such_touchpoint"}}]
    df = touchpoints(journey(rows)).df.set_index("touchpoint")
    assert df.loc["call", "surveys"] == 2           # labelled 4 + unlabelled (last) 2
    assert df.loc["web", "surveys"] == 2            # unlabelled 9 + unknown label (last) 6
    assert "no_such_touchpoint" not in df.index


def test_pain_score_formula():
    rows = [*_rows(), {"customer": 1, "ts": 21, "event": "survey", "score": 4},
            {"customer": 2, "ts": 6, "event": "survey", "score": 10}]
    res = touchpoints(journey(rows), link="last", min_surveys=2)
    df = res.df.set_index("touchpoint")
    # surveys: call 2, 4 (mean 3); web 9, 10 (mean 9.5); overall mean (2 + 4 + 9 + 10) / 4
    overall = 25 / 4
    assert res.params["overall_mean_score"] == pytest.approx(overall)
    # call: volume 3 x excess dissatisfaction (6.25 - 3) / 10 x mean duration 15 min
    assert df.loc["call", "pain_score"] == pytest.approx(3 * (overall - 3) / 10 * 15)
    assert df.loc["call", "dissatisfaction"] == pytest.approx(0.7)
    assert df.loc["call", "pain_rank"] == 1
    assert np.isnan(df.loc["web", "pain_score"])   # no duration while others have one


def test_touchpoints_scoring_at_or_above_average_have_no_pain():
    rows = [{"customer": 1, "ts": 0, "event": "a", "duration_s": 60},
            {"customer": 1, "ts": 1, "event": "survey", "score": 2},
            {"customer": 2, "ts": 0, "event": "b", "duration_s": 6000},
            {"customer": 2, "ts": 1, "event": "survey", "score": 8}]
    df = touchpoints(journey(rows), link="last", min_surveys=1).df.set_index("touchpoint")
    assert df.loc["b", "pain_score"] == 0           # long and busy, but rated above average
    assert df.loc["a", "pain_score"] == pytest.approx(1 * 0.3 * 1)
    assert df.loc["a", "pain_rank"] == 1


def test_min_surveys_leaves_the_score_empty():
    rows = [*_rows(), {"customer": 1, "ts": 21, "event": "survey", "score": 4}]
    df = touchpoints(journey(rows), link="last", min_surveys=3).df.set_index("touchpoint")
    assert df.pain_score.isna().all() and df.pain_rank.isna().all()


def test_without_any_durations_the_score_ignores_duration():
    rows = [{"customer": 1, "ts": 0, "event": "web"},
            {"customer": 1, "ts": 1, "event": "survey", "score": 2},
            {"customer": 2, "ts": 0, "event": "app"},
            {"customer": 2, "ts": 1, "event": "survey", "score": 8}]
    df = touchpoints(journey(rows), link="last", min_surveys=1).df.set_index("touchpoint")
    assert df.loc["web", "pain_score"] == pytest.approx(1 * 0.3)


def test_score_interval_is_a_t_interval():
    from scipy import stats

    rows = [{"customer": 1, "ts": 0, "event": "web"}] + [
        {"customer": 1, "ts": i + 1, "event": "survey", "score": s}
        for i, s in enumerate([3, 5, 8, 6])]
    df = touchpoints(journey(rows), link="last").df.set_index("touchpoint")
    low, high = stats.t.interval(0.95, 3, loc=np.mean([3, 5, 8, 6]),
                                 scale=stats.sem([3, 5, 8, 6]))
    assert (df.loc["web", "score_low"], df.loc["web", "score_high"]) == pytest.approx((low, high))


@FAST
@given(event_logs(), st.sampled_from(["event", "channel"]), st.sampled_from([None, "reason"]),
       st.sampled_from(["attr", "last", "auto"]),
       st.sampled_from([None, timedelta(minutes=45)]))
def test_touchpoints_match_reference(rows, by, attr, link, link_window):
    j = journey(rows)
    labels = {"x": "b"}
    res = touchpoints(j, by, attr=attr, link=link, labels=labels, link_window=link_window)
    want = ref_touchpoints(canonical(j), by, attr, "survey", link, labels, link_window)
    got = {r.touchpoint: r for r in res.df.itertuples()}
    unlinked = want.pop(None, {"surveys": 0})["surveys"]
    assert res.params["unlinked_surveys"] == unlinked
    assert set(got) == set(want)
    for tp, w in want.items():
        g = got[tp]
        assert (g.volume, g.customers, g.n_duration, g.surveys) == (
            w["volume"], w["customers"], w["n_duration"], w["surveys"])
        assert close(g.mean_duration_s, w["mean_duration_s"])
        assert close(g.mean_score, w["mean_score"])


def test_sample_complaint_calls_are_the_pain_point(acme_built):
    import cjlib

    path = acme_built / "truth.yml"
    if not path.exists():
        pytest.skip("sample truth.yml not generated yet")
    truth = yaml.safe_load(path.read_text())["effects"]["pain_point"]
    j = cjlib.open(acme_built)
    # surveys name their touchpoint; complaint calls are inbound calls with reason 'complaint'
    labels = {"complaint_call": "inbound_call/complaint", "followup_call": "followup_call/followup",
              "web_quote": "quote", "payout": "payout_paid", "purchase": "purchase"}
    res = touchpoints(j, attr="reason", link="attr", labels=labels)
    top = res.df.iloc[0]
    assert top.touchpoint == labels[truth["touchpoint"]] and top.pain_rank == 1
    # the planted mean is that of the score before rounding and clipping to 0-10 (clipping
    # lifts the observed mean by about 0.05), so allow about two standard errors around it
    assert top.mean_score == pytest.approx(truth["mean_score"], abs=0.25)
    assert top.mean_score == res.df.mean_score.min()
    # planted durations are lognormal around the median: allow four standard errors (~10%)
    assert top.median_duration_s == pytest.approx(truth["median_duration_s"], rel=0.10)
    res.chart().to_dict()


def test_chart_draws_from_the_result_only():
    j = journey([*_rows(), {"customer": 1, "ts": 21, "event": "survey", "score": 4}])
    res = touchpoints(j, link="last", min_surveys=1)
    j.con.close()
    assert "$schema" in res.chart().to_dict()
