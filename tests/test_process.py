"""Process: directly-follows durations, variants, rework, step failure, dose-response.

Hand-written cases per rule, hypothesis checks against the plain-Python references in
journey_helpers, independent statsmodels fits on case-level rows for the dose-response slopes,
and the sample client's planted failing step and payout-delay -> complaints relation.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cjlib.analyses.process import dose_response, process, process_map, step_failure
from tests.journey_helpers import (
    T0,
    canonical,
    case_groups,
    close,
    event_logs,
    journey,
    quantile,
    ref_dfg,
    ref_dose,
    ref_failure,
    ref_process_variants,
    ref_rework,
    windows,
)

FAST = settings(max_examples=20, deadline=None)
DAY = timedelta(days=1)


def _case_rows() -> list[dict]:
    return [
        {"customer": 1, "ts": 0, "event": "a", "case_id": "k1", "kind": "x"},
        {"customer": 1, "ts": 10, "event": "b", "case_id": "k1", "kind": "x"},
        {"customer": 1, "ts": 30, "event": "a", "case_id": "k1", "kind": "x"},
        {"customer": 2, "ts": 0, "event": "a", "case_id": "k2", "kind": "x"},
        {"customer": 2, "ts": 20, "event": "b", "case_id": "k2", "kind": "x"},
        {"customer": 2, "ts": 25, "event": "z", "case_id": "k2", "kind": "y"},
        {"customer": 2, "ts": 26, "event": "a", "case_id": None, "kind": "x"},
    ]


# ---------------------------------------------------------------------------- process map


def test_directly_follows_pairs_and_durations():
    res = process_map(journey(_case_rows()), kind="x")
    df = res.df.set_index(["from_step", "to_step"])
    assert df.n.to_dict() == {("a", "b"): 2, ("b", "a"): 1}
    ab = df.loc[("a", "b")]
    assert ab.cases == 2
    assert ab.median_s == pytest.approx(900)            # 600 s and 1200 s
    assert ab.p90_s == pytest.approx(600 + 0.9 * 600)   # linear interpolation
    assert df.loc[("b", "a")].mean_s == pytest.approx(1200)


def test_case_scope_by_events_and_kind():
    j = journey(_case_rows())
    with_z = process_map(j).df
    assert ("b", "z") in set(zip(with_z.from_step, with_z.to_step, strict=True))
    only_ab = process_map(j, ["a", "b"]).df
    assert set(zip(only_ab.from_step, only_ab.to_step, strict=True)) == {("a", "b"), ("b", "a")}


def test_require_keeps_cases_with_the_event():
    res = process_map(journey(_case_rows()), require="z")
    assert res.tables["summary"].cases.iloc[0] == 1
    assert list(res.tables["variants"].variant) == ["a → b → z"]


def test_variants_with_case_durations():
    res = process_map(journey(_case_rows()), kind="x")
    v = res.tables["variants"].set_index("variant")
    assert v.cases.to_dict() == {"a → b → a": 1, "a → b": 1}
    assert v.median_s.to_dict() == {"a → b → a": 1800, "a → b": 1200}
    assert v.share.sum() == pytest.approx(1)


def test_variants_beyond_top_are_other():
    rows = [{"customer": 1, "ts": i, "event": e, "case_id": f"c{i}"}
            for i, e in enumerate(["a", "a", "b", "c"])]
    v = process_map(journey(rows), top=1).tables["variants"]
    assert list(v.variant) == ["a", "(other)"]
    assert list(v.cases) == [2, 2]


def test_rework_counts_repeated_steps():
    res = process_map(journey(_case_rows()), kind="x")
    rw = res.tables["rework"].set_index("step")
    assert rw.loc["a", ["cases", "cases_repeated", "extra_occurrences"]].tolist() == [2, 1, 1]
    assert rw.loc["b", ["cases", "cases_repeated", "extra_occurrences"]].tolist() == [2, 0, 0]
    assert rw.loc["(any step)", "rework_rate"] == pytest.approx(0.5)


@FAST
@given(event_logs(), st.sampled_from([None, ["a", "b", "c"]]),
       st.sampled_from([None, ["k"]]), st.sampled_from([None, "b"]))
def test_process_map_matches_reference(rows, case_events, kinds, require):
    j = journey(rows)
    res = process_map(j, case_events, kind=kinds, require=require, top=1000)
    cases = case_groups(canonical(j), case_events, kinds, require)
    want = ref_dfg(cases)
    got = {(r.from_step, r.to_step): r for r in res.df.itertuples()}
    assert set(got) == set(want)
    for key, (n, n_cases, secs) in want.items():
        row = got[key]
        assert (row.n, row.cases) == (n, n_cases)
        assert close(row.median_s, quantile(secs, 0.5))
        assert close(row.p90_s, quantile(secs, 0.9))
        assert close(row.mean_s, float(np.mean(secs)))
    variants = ref_process_variants(cases)
    v = res.tables["variants"].set_index("variant")
    assert v.cases.to_dict() == {k: len(d) for k, d in variants.items()}
    for k, d in variants.items():
        assert close(v.loc[k, "median_s"], quantile(d, 0.5))
    rw = res.tables["rework"].set_index("step")
    got_rw = {s: tuple(int(x) for x in rw.loc[s, ["cases", "cases_repeated",
                                                  "extra_occurrences"]]) for s in rw.index}
    assert got_rw == ref_rework(cases)
    assert int(res.tables["summary"].cases.iloc[0]) == len(cases)


# ---------------------------------------------------------------------------- step failure


def _levels(result) -> dict:
    return {r.level: (r.n, r.completed, r.in_progress) for r in result.df.itertuples()}


def test_attempt_succeeds_only_before_the_next_start():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 1, "ts": 10, "event": "s"},
                 {"customer": 1, "ts": 20, "event": "d"}])
    assert _levels(step_failure(j, "s", "d")) == {
        "attempt": (2, 1, 0), "first attempt": (1, 0, 0), "customer": (1, 1, 0)}


def test_completion_at_the_next_start_time_belongs_to_the_next_attempt():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 1, "ts": 10, "event": "s"},
                 {"customer": 1, "ts": 10, "event": "d"}])
    assert _levels(step_failure(j, "s", "d"))["first attempt"] == (1, 0, 0)
    assert _levels(step_failure(j, "s", "d"))["attempt"] == (2, 1, 0)


def test_completion_at_the_start_time_counts():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 1, "ts": 0, "event": "d"}])
    assert _levels(step_failure(j, "s", "d"))["attempt"] == (1, 1, 0)


def test_completion_before_any_start_does_not_count():
    j = journey([{"customer": 1, "ts": 0, "event": "d"}, {"customer": 1, "ts": 5, "event": "s"}])
    assert _levels(step_failure(j, "s", "d"))["attempt"] == (1, 0, 0)


def test_attempt_window():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 1, "ts": 90, "event": "d"},
                 {"customer": 2, "ts": 200, "event": "x"}])
    assert _levels(step_failure(j, "s", "d"))["attempt"] == (1, 1, 0)
    assert _levels(step_failure(j, "s", "d", window="60m"))["attempt"] == (1, 0, 0)


def test_attempt_in_progress_while_its_window_is_open():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 2, "ts": 100, "event": "s"},
                 {"customer": 3, "ts": 120, "event": "x"}])
    res = step_failure(j, "s", "d", window="60m")
    assert _levels(res) == {"attempt": (1, 0, 1), "first attempt": (1, 0, 1),
                            "customer": (1, 0, 1)}
    assert res.df.set_index("level").failure_rate["attempt"] == 1.0


def test_customer_fails_only_if_no_attempt_completes():
    j = journey([{"customer": 1, "ts": 0, "event": "s"}, {"customer": 1, "ts": 5, "event": "s"},
                 {"customer": 1, "ts": 6, "event": "d"}, {"customer": 2, "ts": 0, "event": "s"}])
    df = step_failure(j, "s", "d").df.set_index("level")
    assert (df.loc["customer", "n"], df.loc["customer", "failed"]) == (2, 1)
    assert df.loc["attempt", "failure_rate"] == pytest.approx(2 / 3)


def test_failure_per_case():
    j = journey([{"customer": 1, "ts": 0, "event": "s", "case_id": "x"},
                 {"customer": 1, "ts": 1, "event": "s", "case_id": "y"},
                 {"customer": 1, "ts": 2, "event": "d", "case_id": "x"}])
    assert _levels(process(j, started="s", completed="d", unit="case"))["case"] == (2, 1, 0)


@FAST
@given(event_logs(events=["s", "d", "x"]), windows(), st.sampled_from(["customer", "case"]))
def test_step_failure_matches_reference(rows, window, unit):
    j = journey(rows)
    res = step_failure(j, "s", "d", window=window, unit=unit)
    want = ref_failure(canonical(j), "s", "d", window, unit, res.params["data_end"])
    assert _levels(res) == want


# ---------------------------------------------------------------------------- dose-response


def _payouts(spec: list[tuple[float | None, bool]]) -> list[dict]:
    """One case per (delay days or None = never paid, complaint 2 days after the request)."""
    rows = []
    for i, (delay, complaint) in enumerate(spec):
        t = T0 + i * timedelta(hours=1)
        rows.append({"customer": i, "ts": t, "event": "req", "case_id": f"c{i}"})
        if delay is not None:
            rows.append({"customer": i, "ts": t + delay * DAY, "event": "paid",
                         "case_id": f"c{i}"})
        if complaint:
            rows.append({"customer": i, "ts": t + 2 * DAY, "event": "complaint"})
    rows.append({"customer": 999, "ts": T0 + 400 * DAY, "event": "end"})
    return rows


def test_dose_bins_rates_and_open_last_bin():
    spec = [(1, False), (1, True), (2, False), (4, True), (5, True), (12, True), (20, False)]
    res = dose_response(journey(_payouts(spec)), "req", "paid", "complaint", bins=[0, 3, 10])
    df = res.df.set_index("duration")
    assert df.cases.to_dict() == {"0–3": 3, "3–10": 2, "≥ 10": 2}
    assert df.outcomes.to_dict() == {"0–3": 1, "3–10": 2, "≥ 10": 1}
    assert df.rate["0–3"] == pytest.approx(1 / 3)


def test_dose_duration_is_first_end_after_start():
    rows = _payouts([(3, False)])
    rows.append({"customer": 0, "ts": T0 + 5 * DAY, "event": "paid", "case_id": "c0"})
    g = dose_response(journey(rows), "req", "paid", "complaint").tables["grouped"]
    assert g.duration_s.tolist() == [3 * 86400]


def test_dose_outcome_window_from_anchor():
    rows = _payouts([(1, False)])
    rows.append({"customer": 0, "ts": T0 + 20 * DAY, "event": "complaint"})
    j = journey(rows)
    within_start = dose_response(j, "req", "paid", "complaint", within="19d")
    within_end = dose_response(j, "req", "paid", "complaint", within="19d", anchor="end")
    assert within_start.df.outcomes.sum() == 0    # 20 days after the request
    assert within_end.df.outcomes.sum() == 1      # 19 days after the payment


def test_dose_outcome_at_the_anchor_time_counts():
    rows = _payouts([(1, False)])
    rows.append({"customer": 0, "ts": T0, "event": "complaint"})
    assert dose_response(journey(rows), "req", "paid", "complaint").df.outcomes.sum() == 1


def test_dose_case_without_end_is_kept_apart():
    res = dose_response(journey(_payouts([(1, True), (None, True), (2, False)])),
                        "req", "paid", "complaint")
    assert res.params["cases"] == 2
    assert res.params["cases_without_end"] == 1


def test_dose_censors_open_outcome_windows():
    rows = _payouts([(1, True), (2, False)])[:-1]   # data end = the last event, day 2
    res = dose_response(journey(rows), "req", "paid", "complaint", within="30d")
    assert res.params["in_progress"] == 2 and res.params["cases"] == 0


def _expanded(spec):
    x = np.array([d for d, _ in spec], dtype=float)
    y = np.array([c for _, c in spec], dtype=float)
    return x, y


def test_dose_slopes_equal_case_level_fits():
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    delays = rng.integers(0, 15, 300)
    complaint = rng.random(300) < 0.03 + 0.02 * delays
    spec = list(zip(delays.tolist(), complaint.tolist(), strict=True))
    res = dose_response(journey(_payouts(spec)), "req", "paid", "complaint", resolution="1d")
    x, y = _expanded(spec)
    ols = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC0")
    assert res.params["linear_b1"] == pytest.approx(ols.params[1])
    assert res.params["linear_b1_low"] == pytest.approx(ols.conf_int()[1][0])
    assert res.params["linear_b1_high"] == pytest.approx(ols.conf_int()[1][1])
    logit = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert res.params["logit_b"] == pytest.approx(logit.params[1], rel=1e-5)
    assert res.params["p_value"] == pytest.approx(logit.pvalues[1], rel=1e-4)


@FAST
@given(event_logs(events=["req", "paid", "complaint"], minute_choices=30, step=120),
       st.sampled_from([timedelta(hours=6), timedelta(days=1)]), st.booleans(),
       st.sampled_from(["1h", "4h"]))
def test_dose_grouping_matches_reference(rows, within, anchor_end, resolution):
    j = journey(rows)
    res = dose_response(j, "req", "paid", "complaint", within=within,
                        anchor="end" if anchor_end else "start", resolution=resolution)
    g = res.tables["grouped"]
    got = {(None if np.isnan(r.duration_s) else float(r.duration_s)):
           (r.cases, r.outcomes, r.in_progress) for r in g.itertuples()}
    want = ref_dose(canonical(j), "req", "paid", "complaint", within, anchor_end,
                    res.params["resolution_s"], res.params["data_end"])
    assert got == want


# ---------------------------------------------------------------------------- sample client


def _truth(acme_built):
    path = acme_built / "truth.yml"
    if not path.exists():
        pytest.skip("sample truth.yml not generated yet")
    return yaml.safe_load(path.read_text())["effects"]


def test_sample_failing_step(acme_built):
    import cjlib

    truth = _truth(acme_built)["failing_step"]
    j = cjlib.open(acme_built)
    res = process(j, started="id_check_started", completed="id_check_completed")
    att = res.df.set_index("level").loc["attempt"]
    assert att.n == truth["started"] and att.completed == truth["completed"]
    assert att.low < truth["failure_rate"] < att.high
    res.chart().to_dict()


def test_sample_payout_delay_drives_complaints(acme_built):
    import cjlib

    truth = _truth(acme_built)["payment_delay_complaints"]
    j = cjlib.open(acme_built)
    res = dose_response(j, "payout_requested", "payout_paid", "complaint_opened",
                        within=f"{truth['window_days']}d", bins=[0, 3, 6, 10])
    p = res.params
    assert p["linear_b1_low"] < truth["slope_per_day"] < p["linear_b1_high"]
    assert p["logit_b_low"] > 0 and p["p_value"] < 1e-4
    df = res.df.set_index("duration")
    labels = {"0-2": "0–3", "3-5": "3–6", "6-9": "6–10", "10-15": "≥ 10"}
    for bucket, label in labels.items():
        rate = truth["by_delay_days"][bucket]["observed_complaint_rate"]
        assert df.low[label] < rate < df.high[label], bucket
    res.chart().to_dict()


def test_charts_draw_from_the_result_only():
    j = journey(_payouts([(1, False), (2, True), (5, True), (9, False)]) + _case_rows())
    results = [process_map(j, kind="x"), step_failure(j, "req", "paid"),
               dose_response(j, "req", "paid", "complaint", bins=2)]
    j.con.close()
    for res in results:
        assert "$schema" in res.chart().to_dict()
