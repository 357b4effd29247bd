"""Latency effect: per-case rules on tiny logs, the SQL against a pandas reference on random
logs, the Mantel-Haenszel ratio against statsmodels, and the planted effect of the acme-motor
sample (about 2x within 20 minutes, gone after 60)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cjlib
from cjlib.analyses import latency as latency_module
from cjlib.analyses import stats
from cjlib.analyses.conversion_stats import mh_risk_ratio
from cjlib.analyses.latency import _gone_index
from tests.conversion_helpers import canonical, make_journey, step_matches

COLS = ("customer", "ts", "event", "case_id", "source")


def per_bucket(j, **kw) -> dict[str, tuple[int, int]]:
    df = j.latency_effect(adjust_for=None, n_boot=0, **kw).df
    return {r.bucket: (r.cases, r.conversions) for r in df.itertuples()}


# ----------------------------------------------------------------------------- per-case rules


def test_followup_with_case_id_counts_for_that_case_only():
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (1, "2024-01-01 10:00", "quote", "Q2", None),
        (1, "2024-01-01 10:10", "followup_call", "Q1", None),
        (1, "2024-01-01 12:00", "purchase", None, None),
    ], columns=COLS)
    got = per_bucket(j, buckets=[0, 20, 60])
    assert got["within 20 min"] == (1, 1)
    assert got["no follow-up"] == (1, 1)


def test_followup_without_case_id_counts_for_the_customers_cases():
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (1, "2024-01-01 10:30", "followup_call", None, None),
        (2, "2024-01-01 10:00", "quote", "Q2", None),
    ], columns=COLS)
    got = per_bucket(j, buckets=[0, 20, 60])
    assert got["20 min-1 h"] == (1, 0)
    assert got["no follow-up"] == (1, 0)


def test_followup_before_case_or_after_window_is_no_followup():
    j = make_journey([
        (1, "2024-01-01 09:00", "followup_call", None, None),
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (2, "2024-01-01 10:00", "quote", "Q2", None),
        (2, "2024-01-09 10:00", "followup_call", "Q2", None),
    ], columns=COLS)
    got = per_bucket(j, buckets=[0, 20], window="7d")
    assert got["no follow-up"] == (2, 0)


def test_bucket_upper_edge_is_inclusive_and_conversion_window_inclusive():
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (1, "2024-01-01 10:20", "followup_call", "Q1", None),
        (1, "2024-01-31 10:00", "purchase", None, None),   # exactly 30 days: converted
        (2, "2024-01-01 10:00", "quote", "Q2", None),
        (2, "2024-01-01 10:20:01", "followup_call", "Q2", None),
        (2, "2024-01-31 10:00:01", "purchase", None, None),  # one second late
    ], columns=COLS)
    got = per_bucket(j, buckets=[0, 20, 60])
    assert got["within 20 min"] == (1, 1)
    assert got["20 min-1 h"] == (1, 0)


def test_followup_naming_the_case_before_it_opens_is_skipped_for_a_later_one():
    j = make_journey([
        (1, "2024-01-01 09:00", "followup_call", "Q1", None),
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (1, "2024-01-01 10:30", "followup_call", "Q1", None),
        (1, "2024-01-01 11:00", "quote", "Q1", None),  # a later occurrence: same case
    ], columns=COLS)
    assert per_bucket(j, buckets=[0, 20, 60]) == {
        "within 20 min": (0, 0), "20 min-1 h": (1, 0), "after 1 h": (0, 0),
        "no follow-up": (0, 0)}


def test_case_id_spelled_like_an_event_key_is_its_own_case():
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", None, None),       # event_id 1: a case of its own
        (2, "2024-01-01 10:00", "quote", "event:1", None),  # a case id, whatever it spells
        (2, "2024-01-01 10:05", "followup_call", "event:1", None),
    ], columns=COLS)
    got = per_bucket(j, buckets=[0, 20])
    assert got["within 20 min"] == (1, 0)
    assert got["no follow-up"] == (1, 0)


def test_stratum_labels_leave_out_missing_values_and_merge():
    # (no channel, customer source web) and (channel web, no customer source) are both "web"
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", "Q1", None, None),
        (1, "2024-01-01 11:00", "page", None, None, "web"),
        (2, "2024-01-01 10:00", "quote", "Q2", "web", None),
    ], columns=("customer", "ts", "event", "case_id", "channel", "source"))
    res = j.latency_effect(adjust_for=["channel", "customer.source"], n_boot=0)
    strata = res.tables["strata"]
    assert strata[["bucket", "stratum", "cases"]].values.tolist() == [[-1, "web", 2]]
    assert res.params["effects"]["any"]["strata"] == 1


@pytest.mark.parametrize("list_max", [1000, 0])  # list lookups / ASOF joins
def test_followup_and_conversion_at_the_opening_count(monkeypatch, list_max):
    monkeypatch.setattr(latency_module, "LIST_LOOKUP_MAX", list_max)
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", "Q1", None),
        (1, "2024-01-01 10:00", "followup_call", None, None),  # without case id, same time
        (1, "2024-01-01 10:00", "purchase", None, None),
        (2, "2024-01-01 10:00", "quote", "Q2", None),
        (2, "2024-01-01 10:00", "followup_call", "Q2", None),
        (2, "2024-01-31 10:00", "purchase", None, None),
    ], columns=COLS)
    assert per_bucket(j, buckets=[0, 20])["within 20 min"] == (2, 2)


def test_customer_with_many_conversions_reruns_with_asof_joins(monkeypatch):
    rows = [(1, "2024-01-01 10:00", "quote", "Q1", None),
            (1, "2024-01-01 10:05", "followup_call", None, None)]
    rows += [(1, f"2024-01-0{d} 09:00", "purchase", None, None) for d in range(1, 5)]
    rows += [(2, "2024-01-01 10:00", "quote", "Q2", None),
             (2, "2024-01-03 10:00", "purchase", None, None)]
    j = make_journey(rows, columns=COLS)
    fast = j.latency_effect(adjust_for=None, buckets=[0, 20], n_boot=0)
    assert fast.params["sql_params"]["robust"] is False
    monkeypatch.setattr(latency_module, "LIST_LOOKUP_MAX", 3)  # customer 1 has 4 purchases
    slow = j.latency_effect(adjust_for=None, buckets=[0, 20], n_boot=0)
    assert slow.params["sql_params"]["robust"] is True
    pd.testing.assert_frame_equal(fast.tables["strata"], slow.tables["strata"])
    assert per_bucket(j, buckets=[0, 20])["within 20 min"] == (1, 1)


def test_case_without_case_id_is_one_occurrence():
    j = make_journey([
        (1, "2024-01-01 10:00", "quote", None, None),
        (1, "2024-01-02 10:00", "quote", None, None),
    ], columns=COLS)
    assert per_bucket(j)["no follow-up"] == (2, 0)


def test_gone_index_requires_all_later_buckets_to_contain_one():
    lows = np.array([1.5, 0.9, 1.1, 0.8])
    highs = np.array([2.5, 1.2, 1.4, 1.3])
    assert _gone_index(lows, highs, np.zeros(4, bool)) == 3
    assert _gone_index(lows, highs, np.array([False, False, True, False])) == 1
    assert _gone_index(lows[:1], highs[:1], np.zeros(1, bool)) is None


# ----------------------------------------------------------------------------- statistics


def test_mh_risk_ratio_matches_statsmodels_and_katz():
    from statsmodels.stats.contingency_tables import StratifiedTable

    a, n1 = np.array([12, 30, 7]), np.array([40, 90, 20])
    c, n0 = np.array([5, 20, 9]), np.array([50, 110, 45])
    tables = [np.array([[a[i], n1[i] - a[i]], [c[i], n0[i] - c[i]]]) for i in range(3)]
    rr, lo, hi = mh_risk_ratio(a, n1, c, n0)
    assert rr == pytest.approx(StratifiedTable(tables).riskratio_pooled)
    # one stratum: the Greenland-Robins variance is Katz's, as in stats.risk_ratio
    one = mh_risk_ratio(a[:1], n1[:1], c[:1], n0[:1])
    assert np.allclose(one, stats.risk_ratio(a[0], n1[0], c[0], n0[0]))
    assert lo < rr < hi


def test_mh_adjusts_away_a_confounder():
    # within each stratum fast follow-up doubles conversion; fast follow-up is more common in the
    # high-converting stratum, so the pooled ratio overstates the effect
    rows = []
    for stratum, base, fast_share in (("good", 0.3, 0.8), ("bad", 0.05, 0.2)):
        for i in range(2000):
            fast = i < 2000 * fast_share
            p = base * (2 if fast else 1)
            converted = (i * 7919 % 1000) / 1000 < p
            t0 = datetime(2024, 1, 1) + timedelta(hours=i)
            cid = f"{stratum}{i}"
            rows.append((cid, t0, "quote", cid, stratum))
            if fast:
                rows.append((cid, t0 + timedelta(minutes=5), "followup_call", cid, None))
            if converted:
                rows.append((cid, t0 + timedelta(days=1), "purchase", None, None))
    j = make_journey(rows, columns=COLS)
    res = j.latency_effect(adjust_for=["source"], buckets=[0, 20], n_boot=0)
    assert res.params["ratio"] > 2.4
    assert res.params["ratio_adj_low"] < 2 < res.params["ratio_adj_high"]


# ----------------------------------------------------------------------------- SQL vs pandas


def pandas_latency(events: pd.DataFrame, uppers: list[float], window: timedelta) -> pd.Series:
    """Cases per (bucket, converted) computed with pandas, one case at a time."""
    ev = events.copy()
    quotes = ev[ev["event"] == "quote"].sort_values(["ts", "event_id"])
    quotes["key"] = quotes["case_id"].where(quotes["case_id"].notna(),
                                            "event:" + quotes["event_id"].astype(str))
    cases = quotes.groupby("key", sort=False).first()
    follow = ev[ev["event"] == "followup_call"]
    buys = ev[ev["event"] == "purchase"]
    out = []
    for _key, c in cases.iterrows():
        mine = follow[((follow["case_id"] == c["case_id"]) & follow["case_id"].notna())
                      | (follow["case_id"].isna() & (follow["customer_id"] == c["customer_id"]))]
        mine = mine[mine["ts"] >= c["ts"]]
        bucket = -1
        if len(mine):
            lat = mine["ts"].min() - c["ts"]
            if lat <= window:
                minutes = lat.total_seconds() / 60
                bucket = sum(minutes > u for u in uppers)
        b = buys[(buys["customer_id"] == c["customer_id"]) & (buys["ts"] >= c["ts"])]
        converted = bool(len(b)) and b["ts"].min() - c["ts"] <= window
        out.append((bucket, converted))
    return pd.Series(out).value_counts().sort_index()


@st.composite
def latency_logs(draw):
    rows = []
    base = datetime(2024, 10, 26, 23, 0)  # around the end of UK summer time
    for cust in range(1, draw(st.integers(1, 4)) + 1):
        for _ in range(draw(st.integers(0, 7))):
            rows.append((cust, base + timedelta(minutes=draw(st.integers(0, 180))),
                         draw(st.sampled_from(["quote", "followup_call", "purchase"])),
                         draw(st.sampled_from(["Q1", "Q2", "Q3", None])), None))
    rows.append((99, base + timedelta(days=1), "end", None, None))
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=latency_logs(), window_min=st.integers(0, 120))
def test_latency_sql_agrees_with_pandas(rows, window_min):
    j = make_journey(rows, columns=COLS)
    uppers = [10.0, 30.0, 60.0]
    res = j.latency_effect(adjust_for=None, buckets=[0, *uppers], window=f"{window_min}min",
                           n_boot=0)
    counts = res.tables["strata"]
    got = {}
    for r in counts.itertuples():
        if r.conversions:
            got[(r.bucket, True)] = got.get((r.bucket, True), 0) + r.conversions
        if r.cases - r.conversions:
            got[(r.bucket, False)] = got.get((r.bucket, False), 0) + r.cases - r.conversions
    events = j.sql("SELECT * FROM events")
    want = pandas_latency(events, uppers, timedelta(minutes=window_min))
    assert got == {k: int(v) for k, v in want.items()}


def reference_latency(j, case_step, follow_steps, conv_step, uppers: list[float],
                      window: timedelta, by_method: bool, start=None, end=None) -> Counter:
    """Cases per (method, bucket, converted), one case and one event at a time: the rules of
    docs/funnel-semantics.md ("Latency effect") read literally."""
    rows = canonical(j)[0].to_dict("records")
    cases: dict[tuple, dict] = {}
    for ev in sorted(rows, key=lambda e: (e["ts"], e["event_id"])):
        if step_matches(ev, case_step) and (start is None or ev["ts"] >= start) \
                and (end is None or ev["ts"] < end):
            key = ("id", ev["case_id"]) if ev["case_id"] is not None else ("event", ev["event_id"])
            cases.setdefault(key, ev)  # opened at the first occurrence
    labels = [f["label"] for f in follow_steps]
    out: Counter = Counter()
    for c in cases.values():
        converted = any(step_matches(e, conv_step) and e["customer_id"] == c["customer_id"]
                        and c["ts"] <= e["ts"] <= c["ts"] + window for e in rows)
        for method in (sorted(set(labels)) if by_method else ["any"]):
            steps = [f for f in follow_steps if not by_method or f["label"] == method]
            times = [e["ts"] for e in rows
                     if any(step_matches(e, f) for f in steps) and e["ts"] >= c["ts"]
                     and (e["case_id"] == c["case_id"] if e["case_id"] is not None
                          else e["customer_id"] == c["customer_id"])]
            bucket = -1
            if times and min(times) - c["ts"] <= window:
                minutes = (min(times) - c["ts"]).total_seconds() / 60
                bucket = sum(minutes > u for u in uppers)
            out[(method, bucket, converted)] += 1
    return out


@st.composite
def latency_setups(draw):
    """Logs with channels, plus follow-up methods (some with a condition), a filtered conversion
    and an optional date range."""
    base = datetime(2024, 10, 26, 23, 0)
    rows = []
    for cust in range(1, draw(st.integers(1, 3)) + 1):
        for _ in range(draw(st.integers(0, 10))):
            rows.append((cust, base + timedelta(minutes=10 * draw(st.integers(0, 6))),  # ties
                         draw(st.sampled_from(["quote", "followup_call", "email", "purchase"])),
                         draw(st.sampled_from(["Q1", "Q2", "Q3", None])),
                         draw(st.sampled_from(["web", "phone", None]))))
    rows.append((99, base + timedelta(days=1), "end", None, None))
    follow = [{"event": "followup_call", "label": "call"}, {"event": "email", "label": "mail"}]
    if draw(st.booleans()):
        follow[0]["channel"] = "phone"
    conv = draw(st.sampled_from(["purchase", {"event": "purchase", "channel": ["web"]}]))
    start = draw(st.sampled_from([None, base + timedelta(minutes=60)]))
    return rows, follow, conv, draw(st.booleans()), start, draw(st.integers(0, 120))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setup=latency_setups(), list_max=st.sampled_from([1000, 1, 0]))
def test_latency_methods_conditions_and_range_agree_with_reference(setup, list_max):
    """Also with the per-customer list lookups cut short (list_max 1 or 0): the customers with
    more conversions / caseless follow-ups are deferred and the query reruns with ASOF joins."""
    rows, follow, conv, by_method, start, window_min = setup
    j = make_journey(rows, columns=("customer", "ts", "event", "case_id", "channel"))
    uppers = [10.0, 30.0, 60.0]
    with mock.patch.object(latency_module, "LIST_LOOKUP_MAX", list_max):
        res = j.latency_effect(case_event="quote", followup_events=follow,
                               conversion_event=conv, by_method=by_method, adjust_for=None,
                               buckets=[0, *uppers], window=f"{window_min}min", start=start,
                               n_boot=0)
    got: Counter = Counter()
    for r in res.tables["strata"].itertuples():
        got[(r.method, r.bucket, True)] += r.conversions
        got[(r.method, r.bucket, False)] += r.cases - r.conversions
    want = reference_latency(j, "quote", follow, conv, uppers, timedelta(minutes=window_min),
                             by_method, start=start)
    assert +got == want


# ----------------------------------------------------------------------------- planted truth


@pytest.fixture(scope="module")
def acme(acme_built):
    truth = yaml.safe_load((acme_built / "truth.yml").read_text())["effects"]["latency"]
    return cjlib.open(acme_built), truth


def test_sample_latency_effect_recovers_planted_truth(acme):
    j, truth = acme
    res = j.latency_effect(case_event="quote", followup_events=["followup_call"],
                           conversion_event="purchase", window="30d", buckets=[0, 20, 60, 240])
    p = res.params
    assert p["ratio_adj_low"] <= truth["ratio_within_20m"] <= p["ratio_adj_high"]
    assert p["gone_after_low"] <= truth["effect_gone_after_min"] <= p["gone_after_high"]
    assert p["gone_after_min"] == truth["effect_gone_after_min"]
    assert "within 20 min" in res.headline
    # against the truth's own reference group (after 60 min or never called)
    late = j.latency_effect(buckets=[0, 20, 60, 240], baseline=60, n_boot=0).params
    assert late["ratio_adj_low"] <= truth["stratified_ratio_within_20m"] <= late["ratio_adj_high"]
    res.chart().to_dict()
