"""Paths: transitions, channel paths and switches, drop-off next steps, switching effect.

Each rule has a small hand-written case; hypothesis checks the SQL against the plain-Python
references in journey_helpers on random event logs; the sample client's planted web-to-phone
switching effect is recovered.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cjlib.analyses.paths import after_paths, channel_paths, paths, switch_effect, transitions
from tests.journey_helpers import (
    canonical,
    event_logs,
    journey,
    ref_after,
    ref_customer_paths,
    ref_switch_effect,
    ref_switches,
    ref_transitions,
    ref_variants,
    windows,
)

FAST = settings(max_examples=15, deadline=None)


def _pairs(result) -> dict:
    return {(r.from_state, r.to_state): r.n for r in result.df.itertuples()}


# ---------------------------------------------------------------------------- transitions


def test_transition_probabilities_are_row_normalised():
    j = journey([
        {"customer": 1, "ts": 0, "event": "a"}, {"customer": 1, "ts": 1, "event": "b"},
        {"customer": 2, "ts": 0, "event": "a"}, {"customer": 2, "ts": 1, "event": "c"},
        {"customer": 3, "ts": 0, "event": "a"}, {"customer": 3, "ts": 1, "event": "b"},
    ])
    df = transitions(j, start_end=False).df
    row = df[df.from_state == "a"].set_index("to_state")
    assert row.n.to_dict() == {"b": 2, "c": 1}
    assert row.p.to_dict() == pytest.approx({"b": 2 / 3, "c": 1 / 3})


def test_same_time_events_follow_event_id_order():
    # from_events numbers events by (customer, ts, event): 'a' before 'b' at the same minute
    j = journey([{"customer": 1, "ts": 5, "event": "b"}, {"customer": 1, "ts": 5, "event": "a"}])
    assert _pairs(transitions(j, start_end=False)) == {("a", "b"): 1}


def test_channel_level_collapses_repeats():
    j = journey([
        {"customer": 1, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 1, "ts": 1, "event": "b", "channel": "web"},
        {"customer": 1, "ts": 2, "event": "c", "channel": "phone"},
        {"customer": 1, "ts": 3, "event": "a", "channel": None},
        {"customer": 1, "ts": 4, "event": "b", "channel": "web"},
    ])
    assert _pairs(transitions(j, "channel", start_end=False)) == {
        ("web", "phone"): 1, ("phone", "web"): 1}
    assert _pairs(transitions(j, "channel", collapse=False, start_end=False)) == {
        ("web", "web"): 1, ("web", "phone"): 1, ("phone", "web"): 1}


def test_start_and_end_states():
    j = journey([{"customer": 1, "ts": 0, "event": "a"}, {"customer": 1, "ts": 1, "event": "b"},
                 {"customer": 2, "ts": 0, "event": "b"}])
    assert _pairs(transitions(j)) == {("(start)", "a"): 1, ("(start)", "b"): 1, ("a", "b"): 1,
                                      ("b", "(end)"): 2}


def test_event_filter_drops_other_events():
    j = journey([{"customer": 1, "ts": 0, "event": "a"}, {"customer": 1, "ts": 1, "event": "x"},
                 {"customer": 1, "ts": 2, "event": "b"}])
    assert _pairs(transitions(j, exclude=["x"], start_end=False)) == {("a", "b"): 1}
    assert _pairs(transitions(j, events=["x", "b"], start_end=False)) == {("x", "b"): 1}


@FAST
@given(event_logs(), st.sampled_from(["event", "channel", "phase"]), st.booleans(),
       st.booleans())
def test_transitions_match_reference(rows, level, collapse, start_end):
    j = journey(rows)
    got = _pairs(transitions(j, level, collapse=collapse, start_end=start_end))
    assert got == dict(ref_transitions(canonical(j), level, collapse, start_end))


# ---------------------------------------------------------------------------- channel paths


def _variants(result) -> dict:
    return {r.path: (r.customers, r.conversions, r.in_progress) for r in result.df.itertuples()}


def test_path_stops_before_first_conversion():
    j = journey([
        {"customer": 1, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 1, "ts": 1, "event": "b", "channel": "phone"},
        {"customer": 1, "ts": 2, "event": "buy", "channel": "web"},
        {"customer": 1, "ts": 3, "event": "c", "channel": "email"},
        {"customer": 2, "ts": 0, "event": "a", "channel": "web"},
    ])
    got = _variants(channel_paths(j, conversion_event="buy"))
    assert got == {"web → phone": (1, 1, 0), "web": (1, 0, 0)}


def test_events_tied_with_the_conversion_follow_event_id_order():
    # same minute: 'a' (event_id before 'buy') is in the path, 'c' (after it) is not
    j = journey([
        {"customer": 1, "ts": 0, "event": "b", "channel": "web"},
        {"customer": 1, "ts": 5, "event": "c", "channel": "email"},
        {"customer": 1, "ts": 5, "event": "buy", "channel": "web"},
        {"customer": 1, "ts": 5, "event": "a", "channel": "phone"},
    ])
    assert _variants(channel_paths(j, conversion_event="buy")) == {"web → phone": (1, 1, 0)}


def test_path_window_cuts_and_censors():
    j = journey([
        {"customer": 1, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 1, "ts": 30, "event": "b", "channel": "phone"},
        {"customer": 1, "ts": 90, "event": "buy", "channel": "web"},   # after the 60 min window
        {"customer": 2, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 2, "ts": 50, "event": "buy", "channel": "web"},
        {"customer": 3, "ts": 200, "event": "a", "channel": "email"},  # window still open
        {"customer": 4, "ts": 230, "event": "x", "channel": "sms"},    # the data end
    ])
    got = _variants(channel_paths(j, conversion_event="buy", window="60m"))
    assert got == {"web → phone": (1, 0, 0), "web": (1, 1, 0), "email": (0, 0, 1),
                   "sms": (0, 0, 1)}


def test_long_paths_are_truncated():
    j = journey([{"customer": 1, "ts": i, "event": e}
                 for i, e in enumerate(["a", "b", "c", "a", "b"])])
    got = _variants(channel_paths(j, "event", max_steps=3))
    assert got == {"a → b → c → …": (1, 0, 0)}


def test_other_row_sums_the_tail():
    rows = []
    for c, e in enumerate(["a", "a", "a", "b", "b", "c", "d"]):
        rows += [{"customer": c, "ts": 0, "event": e}, {"customer": c, "ts": 1, "event": "buy"}]
    df = channel_paths(journey(rows), "event", conversion_event="buy", top=2).df
    assert list(df.path) == ["a", "b", "(other)"]
    assert df.customers.tolist() == [3, 2, 2]
    assert df.conversions.tolist() == [3, 2, 2]


def test_switch_count_per_customer():
    rows = [
        {"customer": 1, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 1, "ts": 1, "event": "a", "channel": "phone"},
        {"customer": 1, "ts": 2, "event": "a", "channel": "web"},
        {"customer": 2, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 2, "ts": 1, "event": "a", "channel": "web"},
        {"customer": 2, "ts": 2, "event": "buy", "channel": "web"},
    ]
    sw = channel_paths(journey(rows), conversion_event="buy").tables["switches"]
    got = {r.switches: (r.customers, r.conversions) for r in sw.itertuples()}
    assert got == {0: (1, 1), 2: (1, 0)}


@FAST
@given(event_logs(), st.sampled_from(["event", "channel"]), st.booleans(), windows(),
       st.sampled_from([None, ["a", "b"]]))
def test_channel_paths_match_reference(rows, level, collapse, window, events):
    j = journey(rows)
    res = channel_paths(j, level, conversion_event="buy", window=window, collapse=collapse,
                        events=events, top=1000, max_steps=4, max_switches=2)
    ev = canonical(j)
    per = ref_customer_paths(ev, level, "buy", window, collapse, res.params["data_end"],
                             events=events)
    assert _variants(res) == ref_variants(per, 4)
    sw = {r.switches: (r.customers, r.conversions, r.in_progress)
          for r in res.tables["switches"].itertuples()}
    assert sw == ref_switches(per, 2)


# ---------------------------------------------------------------------------- after a drop-off


def _next(result) -> dict:
    return {r.next_path: (r.customers, r.conversions, r.in_progress)
            for r in result.df.itertuples()}


def test_after_path_only_for_dropouts():
    j = journey([
        {"customer": 1, "ts": 0, "event": "start"}, {"customer": 1, "ts": 1, "event": "done"},
        {"customer": 1, "ts": 2, "event": "a"},
        {"customer": 2, "ts": 0, "event": "start"}, {"customer": 2, "ts": 1, "event": "b"},
        {"customer": 2, "ts": 2, "event": "buy"},
    ])
    res = after_paths(j, "start", unless="done", conversion_event="buy")
    assert _next(res) == {"b → buy": (1, 1, 0)}


def test_after_path_anchors_on_last_step():
    # completed on the first attempt, then started again and stopped: a drop-out of the last one
    j = journey([
        {"customer": 1, "ts": 0, "event": "start"}, {"customer": 1, "ts": 1, "event": "done"},
        {"customer": 1, "ts": 2, "event": "start"}, {"customer": 1, "ts": 3, "event": "c"},
    ])
    assert _next(after_paths(j, "start", unless="done")) == {"c": (1, 0, 0)}


def test_after_nothing_when_no_later_events():
    j = journey([{"customer": 1, "ts": 0, "event": "a"},
                 {"customer": 1, "ts": 1, "event": "start"}])
    res = after_paths(j, "start", unless="done", steps=2)
    assert _next(res) == {"(nothing)": (1, 0, 0)}
    steps = {(r.position, r.state): r.customers for r in res.tables["steps"].itertuples()}
    assert steps == {(1, "(nothing)"): 1, (2, "(nothing)"): 1}


def test_after_path_starts_after_the_anchor_in_event_id_order():
    # same minute as the anchor 'b': 'a' comes before it (event_id), 'c' after it
    j = journey([{"customer": 1, "ts": 0, "event": "b"}, {"customer": 1, "ts": 0, "event": "a"},
                 {"customer": 1, "ts": 0, "event": "c"}])
    assert _next(after_paths(j, "b")) == {"c": (1, 0, 0)}
    assert _next(after_paths(j, "b", unless="a")) == {"c": (1, 0, 0)}


@FAST
@given(event_logs(), st.sampled_from([None, "c", "a"]), windows(), st.integers(1, 3))
def test_after_paths_match_reference(rows, unless, window, steps):
    j = journey(rows)
    res = after_paths(j, "b", unless=unless, steps=steps, conversion_event="buy", window=window,
                      top=1000)
    want, want_steps = ref_after(canonical(j), "b", unless, "event", steps, "buy", window,
                                 res.params["data_end"])
    assert _next(res) == want
    got_steps = {(r.position, r.state): r.customers for r in res.tables["steps"].itertuples()}
    assert got_steps == dict(want_steps)


# ---------------------------------------------------------------------------- switching


def _groups(result) -> dict:
    return {bool(r.switched): (r.customers, r.conversions, r.in_progress)
            for r in result.df.itertuples()}


def test_switch_counts_only_within_window():
    rows = [
        {"customer": 1, "ts": 0, "event": "quote", "channel": "web"},
        {"customer": 1, "ts": 60, "event": "call", "channel": "phone"},     # 1 h: a switch
        {"customer": 2, "ts": 0, "event": "quote", "channel": "web"},
        {"customer": 2, "ts": 300, "event": "call", "channel": "phone"},    # 5 h: too late
        {"customer": 3, "ts": 0, "event": "quote", "channel": "phone"},     # not a web anchor
        {"customer": 3, "ts": 10, "event": "call", "channel": "phone"},
    ]
    res = switch_effect(journey(rows), within="2h", window=None)
    assert _groups(res) == {True: (1, 0, 0), False: (1, 0, 0)}


def test_switch_after_conversion_is_not_a_switch():
    rows = [
        {"customer": 1, "ts": 0, "event": "quote", "channel": "web"},
        {"customer": 1, "ts": 10, "event": "purchase", "channel": "web"},
        {"customer": 1, "ts": 20, "event": "call", "channel": "phone"},
    ]
    j = journey(rows)
    assert _groups(switch_effect(j, window=None)) == {False: (1, 1, 0)}
    assert _groups(switch_effect(j, window=None, before_conversion=False)) == {True: (1, 1, 0)}


def test_switch_effect_ratio_by_hand():
    rows = []
    # 4 switchers, 3 convert; 6 non-switchers, 2 convert -> ratio (3/4)/(2/6) = 2.25
    for c in range(10):
        rows.append({"customer": c, "ts": 0, "event": "quote", "channel": "web"})
        if c < 4:
            rows.append({"customer": c, "ts": 5, "event": "call", "channel": "phone"})
        if c in (0, 1, 2, 4, 5):
            rows.append({"customer": c, "ts": 9, "event": "purchase", "channel": "web"})
    res = paths(journey(rows), anchor="quote", within="5m", window=None)
    assert res.params["risk_ratio"] == pytest.approx(2.25)
    assert res.params["risk_ratio_low"] < 2.25 < res.params["risk_ratio_high"]
    assert res.params["share_switching"] == pytest.approx(0.4)


@FAST
@given(event_logs(events=["quote", "call", "purchase", "b"]),
       st.sampled_from([None, "web"]), st.sampled_from([None, "call"]),
       st.sampled_from([None, "phone"]), windows(), st.booleans())
def test_switch_effect_matches_reference(rows, anchor_channel, switch_event, switch_channel,
                                         window, before):
    if switch_event is None and switch_channel is None:
        switch_channel = "email"
    j = journey(rows)
    res = switch_effect(j, anchor="quote", anchor_channel=anchor_channel,
                        switch_event=switch_event, switch_channel=switch_channel,
                        within="3h", window=window, before_conversion=before)
    want = ref_switch_effect(canonical(j), "quote", anchor_channel, switch_event,
                             switch_channel, timedelta(hours=3), "purchase", window, before,
                             res.params["data_end"])
    assert _groups(res) == want


# ---------------------------------------------------------------------------- sample client


def test_sample_web_to_phone_switching_effect(acme_built):
    import cjlib

    truth_path = acme_built / "truth.yml"
    if not truth_path.exists():
        pytest.skip("sample truth.yml not generated yet")
    truth = yaml.safe_load(truth_path.read_text())["effects"]["channel_switching"]
    j = cjlib.open(acme_built)
    res = paths(j, anchor="quote", anchor_channel="web", switch_event="inbound_call",
                switch_channel=None, within=f"{truth['within_days']}d",
                conversion_event="purchase", window="30d")
    p = res.params
    assert p["risk_ratio_low"] < truth["ratio"] < p["risk_ratio_high"]
    assert p["risk_ratio_low"] < truth["raw_observed_ratio"] < p["risk_ratio_high"]
    assert p["risk_ratio_low"] > 1  # switchers convert better, significantly
    res.chart().to_dict()


def test_charts_draw_from_the_result_only():
    rows = [
        {"customer": 1, "ts": 0, "event": "a", "channel": "web"},
        {"customer": 1, "ts": 1, "event": "b", "channel": "phone"},
        {"customer": 1, "ts": 2, "event": "buy", "channel": "web"},
        {"customer": 2, "ts": 0, "event": "a", "channel": "web"},
    ]
    j = journey(rows)
    results = [transitions(j, "channel"), channel_paths(j, conversion_event="buy"),
               after_paths(j, "a", conversion_event="buy"),
               switch_effect(j, anchor="a", switch_channel="phone", window=None)]
    j.con.close()  # a chart that queried would fail now
    for res in results:
        spec = res.chart().to_dict()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
