"""Attribution: each rule on a hand-computed journey, the Markov removal effects on hand-derived
chains and against an independent power-iteration implementation, and the SQL journeys/weights
against a slow plain-Python reference on random event logs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cjlib
from cjlib.analyses.attribution import MODELS, RULE_MODELS, markov_removal_effects

from .value_helpers import (
    T0,
    paths_frame,
    reference_journeys,
    reference_markov,
    reference_rules,
)


def _journey(rows: list[tuple[int, str, str, str | None, float | None]]) -> cjlib.journey.Journey:
    """rows: (customer, ts, event, channel, value)."""
    frame = pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"])
    frame["ts"] = pd.to_datetime(frame.ts, format="mixed")
    return cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                             channel="channel", value="value")


def _credit(res, model: str) -> dict[str, float]:
    by = res.params["by"]
    d = res.df[res.df.model == model]
    return dict(zip(d[by], d.conversions, strict=True))


def _value(res, model: str) -> dict[str, float]:
    by = res.params["by"]
    d = res.df[res.df.model == model]
    return dict(zip(d[by], d.value, strict=True))


# one journey: A, B, C, then a purchase worth 100
ABC = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-08", "visit", "B", None),
       (1, "2024-01-14 23:59:59", "visit", "C", None), (1, "2024-01-15", "purchase", None, 100)]


# ------------------------------------------------------------------------------ rules, by hand


def test_first_touch_credits_the_first_touch() -> None:
    res = _journey(ABC).attribution()
    assert _credit(res, "first_touch") == {"A": 1.0, "B": 0.0, "C": 0.0}
    assert _value(res, "first_touch")["A"] == 100


def test_last_touch_credits_the_last_touch() -> None:
    res = _journey(ABC).attribution()
    assert _credit(res, "last_touch") == {"C": 1.0, "A": 0.0, "B": 0.0}


def test_linear_splits_evenly() -> None:
    res = _journey(ABC).attribution()
    assert _credit(res, "linear") == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert _value(res, "linear")["B"] == pytest.approx(100 / 3)


def test_position_based_gives_40_20_40() -> None:
    four = [(1, f"2024-01-0{d}", "visit", c, None) for d, c in zip((1, 2, 3, 4), "ABCD",
                                                                   strict=True)]
    res = _journey([*four, (1, "2024-01-05", "purchase", None, 10)]).attribution()
    assert _credit(res, "position_based") == pytest.approx(
        {"A": 0.4, "B": 0.1, "C": 0.1, "D": 0.4})
    two = _journey([(1, "2024-01-01", "visit", "A", None), (1, "2024-01-02", "visit", "B", None),
                    (1, "2024-01-03", "purchase", None, 10)]).attribution()
    assert _credit(two, "position_based") == pytest.approx({"A": 0.5, "B": 0.5})


def test_time_decay_halves_weight_per_half_life() -> None:
    rows = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-08", "visit", "B", None),
            (1, "2024-01-15", "visit", "C", None), (1, "2024-01-15 00:00:01", "purchase", None, 7)]
    res = _journey(rows).attribution(half_life="7d")
    # ages ~14, ~7, ~0 days -> weights 1/4, 1/2, 1 (normalised by 1.75)
    got = _credit(res, "time_decay")
    assert got == pytest.approx({"A": 0.25 / 1.75, "B": 0.5 / 1.75, "C": 1 / 1.75}, rel=1e-5)


def test_lookback_drops_older_touches() -> None:
    rows = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-20", "visit", "B", None),
            (1, "2024-01-25", "purchase", None, 1)]
    res = _journey(rows).attribution(lookback="10d")
    assert _credit(res, "first_touch") == {"B": 1.0}
    assert _credit(_journey(rows).attribution(lookback=None), "first_touch")["A"] == 1.0


def test_collapse_merges_consecutive_repeats() -> None:
    rows = [(1, f"2024-01-0{d}", "visit", c, None) for d, c in zip((1, 2, 3, 4), "AABA",
                                                                   strict=True)]
    rows.append((1, "2024-01-05", "purchase", None, 1))
    collapsed = _journey(rows).attribution()
    assert _credit(collapsed, "linear") == pytest.approx({"A": 2 / 3, "B": 1 / 3})
    raw = _journey(rows).attribution(collapse=False)
    assert _credit(raw, "linear") == pytest.approx({"A": 3 / 4, "B": 1 / 4})


def test_first_only_attributes_each_customers_first_conversion() -> None:
    rows = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-02", "purchase", None, 5),
            (1, "2024-01-03", "visit", "B", None), (1, "2024-01-04", "purchase", None, 50)]
    first = _journey(rows).attribution()
    assert _credit(first, "last_touch") == {"A": 1.0}
    every = _journey(rows).attribution(first_only=False)
    # the second journey starts after the first conversion: B only
    assert _credit(every, "first_touch") == {"A": 1.0, "B": 1.0}
    assert _value(every, "first_touch") == {"A": 5.0, "B": 50.0}


def test_a_touch_at_the_conversion_time_belongs_to_the_next_journey() -> None:
    rows = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-02", "purchase", None, 5),
            (1, "2024-01-02", "visit", "B", None), (1, "2024-01-03", "purchase", None, 5)]
    every = _journey(rows).attribution(first_only=False)
    assert _credit(every, "last_touch") == {"A": 1.0, "B": 1.0}


def test_conversions_without_touches_are_counted_not_attributed() -> None:
    rows = [(1, "2024-01-01", "visit", "A", None), (1, "2024-01-02", "purchase", None, 5),
            (2, "2024-01-02", "purchase", None, 9)]
    res = _journey(rows).attribution()
    assert (res.params["conversions"], res.params["unattributed_conversions"]) == (2, 1)
    assert res.df.groupby("model").conversions.sum().tolist() == [1.0] * len(MODELS)


def test_by_source_uses_the_lead_source_column() -> None:
    frame = pd.DataFrame({
        "customer": [1, 1, 1], "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "event": ["quote", "call", "purchase"], "channel": ["web", "phone", None],
        "source": ["search", None, None], "value": [None, None, 10.0]})
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", source="source", value="value")
    res = j.attribution(by="source")
    assert set(res.df.source) == {"search"}
    assert _credit(res, "last_touch") == {"search": 1.0}


def test_touch_events_restrict_what_counts_as_a_touch() -> None:
    rows = [(1, "2024-01-01", "ad", "A", None), (1, "2024-01-02", "survey", "S", None),
            (1, "2024-01-03", "purchase", None, 1)]
    res = _journey(rows).attribution(touch_events=["ad"])
    assert _credit(res, "last_touch") == {"A": 1.0}


# ------------------------------------------------------------------------------ Markov, by hand


def _transitions(paths: list[tuple[list[str], bool]]) -> pd.DataFrame:
    edges = []
    for touches, converted in paths:
        states = ["(start)", *touches, "(conversion)" if converted else "(null)"]
        edges += list(itertools.pairwise(states))
    return (pd.DataFrame(edges, columns=["from_state", "to_state"])
            .value_counts().rename("n").reset_index())


def test_markov_two_path_example_by_hand() -> None:
    """Paths A>B>conversion and B>null: start->A 1/2, start->B 1/2, A->B 1, B->conv 1/2.
    P(conv) = 1/2*1*1/2 + 1/2*1/2 = 1/2. Without A: 1/4 (effect 1/2); without B: 0 (effect 1).
    Shares: A 1/3, B 2/3."""
    p, effects = markov_removal_effects(_transitions([(["A", "B"], True), (["B"], False)]))
    assert p == pytest.approx(0.5)
    e = effects.set_index("touch")
    assert e.removal_effect.to_dict() == pytest.approx({"A": 0.5, "B": 1.0})
    assert e.share.to_dict() == pytest.approx({"A": 1 / 3, "B": 2 / 3})


def test_markov_end_to_end_matches_the_hand_example() -> None:
    frame = paths_frame([(["A", "B"], True, 30.0), (["B"], False, 0.0)])
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    res = j.attribution()
    assert _credit(res, "markov") == pytest.approx({"A": 1 / 3, "B": 2 / 3})
    assert _value(res, "markov") == pytest.approx({"A": 10.0, "B": 20.0})
    assert res.params["markov_conversion_probability"] == pytest.approx(0.5)


def test_markov_loop_example_by_hand() -> None:
    """A>B>A>conv and A>null: A->B 1/3, A->conv 1/3, A->null 1/3, B->A 1.
    x_A = 1/3 x_B + 1/3, x_B = x_A -> x_A = 1/2. Without B: x_A = 1/3 (effect 1/3)."""
    p, effects = markov_removal_effects(_transitions([(["A", "B", "A"], True), (["A"], False)]))
    assert p == pytest.approx(0.5)
    e = effects.set_index("touch").removal_effect
    assert (e["A"], e["B"]) == pytest.approx((1.0, 1 / 3))


# ------------------------------------------------------------------------------ properties


channel = st.sampled_from(["A", "B", "C", "D"])
path = st.tuples(st.lists(channel, min_size=1, max_size=6), st.booleans(),
                 st.floats(0, 1000).map(lambda v: round(v, 2)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(channel, min_size=1, max_size=7), st.booleans()),
                min_size=1, max_size=30).filter(lambda ps: any(c for _, c in ps)))
def test_markov_solution_equals_power_iteration(paths) -> None:
    p, effects = markov_removal_effects(_transitions(paths))
    p_ref, effects_ref = reference_markov(paths)
    assert p == pytest.approx(p_ref, abs=1e-9)
    got = effects.set_index("touch").removal_effect.to_dict()
    assert got == pytest.approx(effects_ref, abs=1e-8)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(path, min_size=1, max_size=25))
def test_every_model_attributes_all_touched_conversions_and_value(paths) -> None:
    frame = paths_frame(paths)
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    res = j.attribution()
    converted = [(t, v) for t, c, v in paths if c]
    totals = res.df.groupby("model")[["conversions", "value"]].sum()
    present = set(RULE_MODELS) | ({"markov"} if converted else set())
    assert set(totals.index) == (present if converted else set())
    for model in totals.index:
        assert totals.loc[model, "conversions"] == pytest.approx(len(converted))
        assert totals.loc[model, "value"] == pytest.approx(sum(v for _, v in converted),
                                                           abs=1e-6)
    if converted:
        p_ref, effects_ref = reference_markov([(t, c) for t, c, _ in paths])
        assert res.params["markov_conversion_probability"] == pytest.approx(p_ref, abs=1e-9)
        total = sum(effects_ref.values())
        shares = {c: len(converted) * e / total for c, e in effects_ref.items()}
        assert _credit(res, "markov") == pytest.approx(shares, abs=1e-8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 6), st.booleans(), st.floats(1, 99)), min_size=1,
                max_size=10).filter(lambda ps: any(c for _, c, _ in ps)))
def test_single_channel_journeys_credit_everything_to_that_channel(paths) -> None:
    frame = paths_frame([(["only"] * k, c, v) for k, c, v in paths])
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    res = j.attribution(collapse=False)
    conversions = sum(c for _, c, _ in paths)
    for model in MODELS:
        assert _credit(res, model) == pytest.approx({"only": conversions})


events_strategy = st.lists(
    st.tuples(st.integers(0, 4),  # customer
              st.sampled_from(["touch", "touch", "touch", "purchase", "other"]),
              st.sampled_from(["web", "phone", "email", None]),
              st.floats(0, 500).map(lambda v: round(v, 2))),
    min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events_strategy, st.sampled_from([None, 2.0, 5.0]), st.booleans(), st.booleans(),
       st.permutations(range(40)))
def test_sql_attribution_equals_the_python_reference(rows, lookback, first_only, collapse,
                                                     order) -> None:
    frame = pd.DataFrame(rows, columns=["customer", "event", "channel", "value"])
    # distinct times (random order), 6 hours apart, so journeys have no ties
    frame["ts"] = T0 + pd.to_timedelta(np.array(order[: len(frame)]) * 6, unit="h")
    frame["order"] = range(len(frame))
    frame.loc[frame.event != "purchase", "value"] = np.nan
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    res = j.attribution(lookback=lookback, first_only=first_only, collapse=collapse,
                        half_life="3d")
    journeys = reference_journeys(frame, "purchase", lookback, first_only, collapse)
    ref = reference_rules(journeys, 3.0)
    got = res.df[res.df.model != "markov"].rename(columns={"channel": "touch"})
    merged = ref.merge(got, on=["model", "touch"], how="outer", suffixes=("_ref", ""))
    merged = merged.fillna({"conversions_ref": 0.0, "value_ref": 0.0, "conversions": 0.0,
                            "value": 0.0})
    np.testing.assert_allclose(merged.conversions.to_numpy(float),
                               merged.conversions_ref.to_numpy(float), atol=1e-9)
    np.testing.assert_allclose(merged.value.to_numpy(float), merged.value_ref.to_numpy(float),
                               atol=1e-6)
    paths = [([c for _, c in jn["touches"]], jn["converted"]) for jn in journeys
             if jn["touches"]]
    if any(c for _, c in paths):
        p_ref, effects_ref = reference_markov(paths)
        assert res.params["markov_conversion_probability"] == pytest.approx(p_ref, abs=1e-9)
        got_effects = res.tables["removal_effects"].set_index("touch").removal_effect.to_dict()
        assert got_effects == pytest.approx(effects_ref, abs=1e-8)


# ------------------------------------------------------------------------------ the result


def test_result_shape_headline_and_chart() -> None:
    frame = paths_frame([(["web", "phone"], True, 100.0), (["web"], False, 0.0),
                         (["email", "phone"], True, 50.0)])
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    res = j.attribution()
    assert list(res.df.columns) == ["model", "channel", "conversions", "share", "value"]
    assert set(res.tables["wide"].columns) == {"channel", *MODELS}
    assert "2 conversions" in res.headline and "phone" in res.headline
    assert "attribution_markov" in res.sql
    assert res.chart().to_dict()


def test_bad_durations_are_refused() -> None:
    frame = paths_frame([(["web"], True, 1.0)])
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value")
    with pytest.raises(cjlib.errors.CjError):
        j.attribution(lookback="thirty days")
    with pytest.raises(cjlib.errors.CjError):
        j.attribution(half_life=0)


# ------------------------------------------------------------------------------ the sample client


def test_sample_attribution_by_lead_source_is_consistent(acme_built) -> None:
    j = cjlib.open(acme_built)
    res = j.attribution(by="source")
    totals = res.df.groupby("model").conversions.sum()
    assert np.allclose(totals, res.params["attributed_conversions"])
    # lead sources of quotes: the worst-converting planted source (social) gets the least
    # first-touch credit per quote among the planted lead sources
    import yaml

    truth = yaml.safe_load((acme_built / "truth.yml").read_text())["effects"]["lead_source"]
    quotes = j.sql("SELECT source, count(*) AS n FROM events WHERE event = 'quote' "
                   "GROUP BY source").set_index("source").n
    first = {k: v for k, v in _credit(res, "first_touch").items() if k in truth["sources"]}
    per_quote = {k: first.get(k, 0.0) / quotes[k] for k in truth["sources"]}
    assert min(per_quote, key=per_quote.get) == truth["worst_source"]
