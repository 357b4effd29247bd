"""One small exact case per funnel rule (docs/funnel-semantics.md), each checked against counts
derived by hand and against the plain-Python reference in tests/conversion_helpers.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cjlib.analyses.conversion_common import ArgumentError
from tests.conversion_helpers import canonical, make_journey, reference_counts, reference_funnel

D = timedelta(days=1)


def reached(j, steps, **kw) -> list[int]:
    """Units reaching each step (no breakdown)."""
    return j.funnel(steps, **kw).df["reached"].tolist()


def status(j, steps, **kw) -> dict[str, list[int]]:
    df = j.funnel(steps, **kw).df
    return {c: df[c].tolist() for c in ("entered", "reached", "dropped", "in_progress")}


def agrees_with_reference(j, steps, deadline=30 * D, **kw) -> None:
    events, customers = canonical(j)
    ref_kw = {k: v for k, v in kw.items() if k in ("order", "entry", "attempt", "unit",
                                                     "exclude", "by", "attribution")}
    ref = reference_counts(
        reference_funnel(events, customers, steps, deadlines=[timedelta(0)] + [deadline] * (
            len(steps) - 1), **ref_kw), len(steps))
    raw = j.funnel(steps, window=deadline, **kw).tables["raw"]
    got = raw[raw["kind"] == "step"][["grp", "step", "reached", "stopped_open",
                                      "stopped_closed"]].reset_index(drop=True)
    assert got.astype(str).values.tolist() == ref.astype(str).values.tolist()


# ----------------------------------------------------------------------------- ordering


def test_step_must_not_precede_previous():
    j = make_journey([
        (1, "2024-01-01 10:00", "b"),   # b before a: does not count
        (1, "2024-01-01 11:00", "a"),
        (2, "2024-01-01 10:00", "a"),
        (2, "2024-01-01 12:00", "b"),
        (3, "2024-01-05 00:00", "z"),   # data end far away: windows closed
    ])
    assert reached(j, ["a", "b"]) == [2, 1]
    agrees_with_reference(j, ["a", "b"])


def test_same_timestamp_counts_as_in_order():
    j = make_journey([(1, "2024-01-01 10:00", "b"), (1, "2024-01-01 10:00", "a"),
                      (9, "2024-03-01", "z")])
    assert reached(j, ["a", "b"]) == [1, 1]


def test_window_is_inclusive():
    j = make_journey([
        (1, "2024-01-01 00:00", "a"), (1, "2024-01-31 00:00", "b"),           # exactly 30 days
        (2, "2024-01-01 00:00", "a"), (2, "2024-01-31 00:00:01", "b"),        # one second late
        (3, "2024-06-01", "z"),
    ])
    assert reached(j, ["a", "b"], window="30d") == [2, 1]
    assert reached(j, ["a", "b"], window="720h") == [2, 1]


def test_window_measured_from_entry_not_previous_step():
    j = make_journey([(1, "2024-01-01", "a"), (1, "2024-01-20", "b"), (1, "2024-02-05", "c"),
                      (2, "2024-06-01", "z")])
    assert reached(j, ["a", "b", "c"], window="30d") == [1, 1, 0]


def test_customer_counted_once_at_furthest_step():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "b"),                       # attempt 1: a, b
        (1, "2024-03-01", "a"), (1, "2024-03-02", "b"), (1, "2024-03-03", "c"),  # attempt 2
        (1, "2024-05-01", "a"),                                               # attempt 3: a only
        (2, "2024-08-01", "z"),
    ])
    assert status(j, ["a", "b", "c"]) == {
        "entered": [1, 1, 1], "reached": [1, 1, 1], "dropped": [0, 0, 0], "in_progress": [0, 0, 0]}
    agrees_with_reference(j, ["a", "b", "c"])


def test_one_event_fills_one_step():
    j = make_journey([(1, "2024-01-01", "a"), (2, "2024-01-01", "a"), (2, "2024-01-01", "a"),
                      (9, "2024-06-01", "z")])
    assert reached(j, ["a", "a"]) == [2, 1]
    j2 = make_journey([(1, "2024-01-01", "a"), (1, "2024-01-02", "b"), (9, "2024-06-01", "z")])
    # one b cannot be both step 2 and step 3
    assert reached(j2, ["a", "b", "b"]) == [1, 1, 0]
    agrees_with_reference(j2, ["a", "b", "b"])


def test_step_filters_on_columns_and_attrs():
    j = make_journey([
        (1, "2024-01-01", "quote", "web", '{"arm": "x"}'),
        (1, "2024-01-02", "purchase", "phone", '{"arm": "x"}'),
        (2, "2024-01-01", "quote", "phone", '{"arm": "y"}'),
        (2, "2024-01-02", "purchase", "phone", '{"arm": "y"}'),
        (3, "2024-06-01", "z", None, None),
    ], columns=("customer", "ts", "event", "channel", "attrs"))
    assert reached(j, [{"event": "quote", "channel": "web"}, "purchase"]) == [1, 1]
    assert reached(j, [{"event": "quote", "attrs.arm": ["y", "q"]}, "purchase"]) == [1, 1]
    assert reached(j, [{"event": "quote", "attrs": {"arm": "nope"}}, "purchase"]) == [0, 0]


# ----------------------------------------------------------------------------- exclusions


def test_exclusion_removes_attempt():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "x"), (1, "2024-01-03", "b"),  # removed
        (2, "2024-01-01", "a"), (2, "2024-01-03", "b"),
        (3, "2024-01-01", "a"), (3, "2024-01-02", "x"),                          # removed
        (3, "2024-03-01", "a"), (3, "2024-03-02", "b"),                          # kept
        (9, "2024-06-01", "z"),
    ])
    res = j.funnel(["a", "b"], exclude=["x"])
    assert res.df["reached"].tolist() == [2, 2]
    assert res.params["excluded_units"] == 1
    agrees_with_reference(j, ["a", "b"], exclude=["x"])


def test_exclusion_after_completion_does_not_remove():
    j = make_journey([(1, "2024-01-01", "a"), (1, "2024-01-02", "b"), (1, "2024-01-05", "x"),
                      (9, "2024-06-01", "z")])
    assert reached(j, ["a", "b"], exclude=["x"]) == [1, 1]


# ----------------------------------------------------------------------------- entry options


def test_first_entry_only():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-03-01", "a"), (1, "2024-03-02", "b"),
        (9, "2024-06-01", "z"),
    ])
    assert reached(j, ["a", "b"], entry="every") == [1, 1]
    assert reached(j, ["a", "b"], entry="first") == [1, 0]
    assert reached(j, ["a", "b"], semantics="mixpanel") == [1, 0]
    agrees_with_reference(j, ["a", "b"], entry="first")


def test_entry_date_range():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "b"),
        (2, "2024-02-10", "a"), (2, "2024-03-20", "b"),  # later steps may fall after `end`
        (9, "2024-06-01", "z"),
    ])
    assert reached(j, ["a", "b"], start="2024-02-01", end="2024-03-01", window="60d") == [1, 1]


# ----------------------------------------------------------------------------- order options


def test_strict_order():
    j = make_journey([
        (1, "2024-01-01 10:00", "a"), (1, "2024-01-01 10:01", "noise"),
        (1, "2024-01-01 10:02", "b"),
        (2, "2024-01-01 10:00", "a"), (2, "2024-01-01 10:02", "b"),
        (9, "2024-06-01", "z"),
    ])
    assert reached(j, ["a", "b"], order="ordered") == [2, 2]
    assert reached(j, ["a", "b"], order="strict") == [2, 1]
    agrees_with_reference(j, ["a", "b"], order="strict")


def test_any_order():
    j = make_journey([
        (1, "2024-01-01", "b"), (1, "2024-01-02", "a"),
        (2, "2024-01-01", "a"),
        (3, "2024-01-01", "c"), (3, "2024-01-03", "b"), (3, "2024-01-04", "a"),
        (9, "2024-06-01", "z"),
    ])
    df = j.funnel(["a", "b", "c"], order="any").df
    assert df["step_name"].tolist() == ["1 of 3 steps", "2 of 3 steps", "3 of 3 steps"]
    assert df["reached"].tolist() == [3, 2, 1]
    agrees_with_reference(j, ["a", "b", "c"], order="any")


def test_any_order_one_event_fills_one_step():
    j = make_journey([(1, "2024-01-01", "a"), (9, "2024-06-01", "z")])
    assert reached(j, ["a", "a"], order="any") == [1, 0]


def test_per_step_windows():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-03", "b"), (1, "2024-01-20", "c"),
        (2, "2024-01-01", "a"), (2, "2024-01-10", "b"), (2, "2024-01-12", "c"),
        (9, "2024-06-01", "z"),
    ])
    assert reached(j, ["a", "b", "c"], step_windows=["5d", "30d"]) == [2, 1, 1]
    with pytest.raises(ArgumentError):
        j.funnel(["a", "b", "c"], step_windows=["30d", "5d"])


# ----------------------------------------------------------------------------- censoring


def test_in_progress_not_dropped():
    j = make_journey([
        (1, "2024-01-01", "a"), (1, "2024-01-02", "b"),     # converted
        (2, "2024-01-01", "a"),                              # window closed on 2024-01-31: dropped
        (3, "2024-02-01", "a"),                              # window open at data end: in progress
        (4, "2024-02-10", "z"),                              # data end
    ])
    assert status(j, ["a", "b"]) == {
        "entered": [3, 3], "reached": [3, 1], "dropped": [0, 1], "in_progress": [0, 1]}
    agrees_with_reference(j, ["a", "b"])


def test_old_attempt_closed_new_attempt_open_is_in_progress():
    j = make_journey([(1, "2024-01-01", "a"), (1, "2024-03-01", "a"), (2, "2024-03-05", "z")])
    assert status(j, ["a", "b"])["in_progress"] == [0, 1]


# ----------------------------------------------------------------------------- units, breakdowns


def test_case_unit_counts_cases():
    j = make_journey([
        (1, "2024-01-01", "quote", "Q1"), (1, "2024-01-02", "purchase", "Q1"),
        (1, "2024-01-01", "quote", "Q2"),
        (2, "2024-01-01", "quote", "Q3"), (2, "2024-01-03", "purchase", "Q4"),
        (9, "2024-06-01", "z", None),
    ], columns=("customer", "ts", "event", "case_id"))
    assert reached(j, ["quote", "purchase"], unit="case") == [3, 1]
    assert reached(j, ["quote", "purchase"], unit="customer") == [2, 2]
    agrees_with_reference(j, ["quote", "purchase"], unit="case")


def test_breakdown_first_touch():
    j = make_journey([
        (1, "2024-01-01", "a", "search"), (1, "2024-03-01", "a", "social"),
        (1, "2024-03-02", "b", None),
        (2, "2024-01-01", "a", "social"),
        (9, "2024-06-01", "z", None),
    ], columns=("customer", "ts", "event", "source"))
    df = j.funnel(["a", "b"], by="source").df
    got = {(r.source, r.step): r.reached for r in df.itertuples()}
    # customer 1 is bucketed by its first entry (search), counted at its furthest step (b)
    assert got == {("search", 1): 1, ("search", 2): 1, ("social", 1): 1, ("social", 2): 0}
    df2 = j.funnel(["a", "b"], by="source", attribution="attempt").df
    got2 = {(r.source, r.step): r.reached for r in df2.itertuples()}
    assert got2 == {("social", 1): 2, ("social", 2): 1}
    agrees_with_reference(j, ["a", "b"], by="source")
    agrees_with_reference(j, ["a", "b"], by="source", attribution="attempt")


def test_rates_and_wilson_intervals():
    rows = [(i, "2024-01-01", "a") for i in range(10)]
    rows += [(i, "2024-01-02", "b") for i in range(4)] + [(99, "2024-06-01", "z")]
    df = make_journey(rows).funnel(["a", "b"]).df
    last = df.iloc[-1]
    assert last["rate_overall"] == pytest.approx(0.4)
    assert last["rate_step"] == pytest.approx(0.4)
    # Wilson 95% interval for 4/10 (hand computation: centre 0.4 ± ...)
    z = 1.959963984540054
    n, p = 10, 0.4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    assert last["rate_overall_low"] == pytest.approx(centre - half)
    assert last["rate_overall_high"] == pytest.approx(centre + half)


def test_empty_input_gives_zero_funnel():
    j = make_journey([(1, "2024-01-01", "z")])
    res = j.funnel(["a", "b"])
    assert res.df["reached"].tolist() == [0, 0]
    assert "No customers" in res.headline


def test_semantics_presets_differ_on_time_to_convert():
    j = make_journey([(1, "2024-01-01", "quote"), (1, "2024-01-11", "quote"),
                      (1, "2024-01-13", "purchase"), (9, "2024-06-01", "z")])
    days = {s: j.time_to_convert(["quote", "purchase"], semantics=s).df.iloc[-1]["median_s"]
            / 86400 for s in ("posthog", "amplitude", "mixpanel")}
    assert days == {"posthog": 2.0, "amplitude": 12.0, "mixpanel": 12.0}


def test_bad_arguments_are_named():
    j = make_journey([(1, "2024-01-01", "a")])
    with pytest.raises(ArgumentError, match="order"):
        j.funnel(["a", "b"], order="sideways")
    with pytest.raises(ArgumentError, match="window"):
        j.funnel(["a", "b"], window="soon")
    with pytest.raises(ArgumentError, match="exclude"):
        j.funnel(["a", "b"], order="any", exclude=["x"])


def test_runs_on_filtered_journey():
    rows = [
        (1, "2024-01-01", "a", "web"), (1, "2024-01-02", "b", "phone"),
        (2, "2024-01-01", "a", "web"), (2, "2024-01-02", "b", "web"),
        (9, "2024-06-01", "z", "web"),
    ]
    j = make_journey(rows, columns=("customer", "ts", "event", "channel"))
    only_web = make_journey([r for r in rows if r[3] == "web"],
                            columns=("customer", "ts", "event", "channel"))
    assert reached(j.where(channel="web"), ["a", "b"]) == reached(only_web, ["a", "b"]) == [2, 1]
