"""Hot-spots: lost units and money at stake per step on a hand-made funnel (numbers by hand),
and the planted failing step of the acme-motor sample."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import cjlib
from cjlib.analyses import stats
from tests.conversion_helpers import make_journey

COLS = ("customer", "ts", "event", "value")


def funnel_log():
    """20 reach a; 10 of them b; 4 of those c (value 100 each); plus 2 at b still in progress."""
    rows = []
    for i in range(20):
        rows.append((i, "2024-01-01", "a", None))
        if i < 10:
            rows.append((i, "2024-01-02", "b", None))
        if i < 4:
            rows.append((i, "2024-01-03", "c", 100.0))
    for i in (100, 101):
        rows += [(i, "2024-03-01", "a", None), (i, "2024-03-02", "b", None)]
    rows.append((999, "2024-03-10", "z", None))
    return make_journey(rows, columns=COLS, gross_margin=0.5)


def test_money_at_stake_by_hand():
    res = funnel_log().hotspots(["a", "b", "c"])
    df = res.df.set_index("to_step")
    # a -> b: 10 lost; of the 12 who reached b, 2 are still open, so the onward rate is 4/10
    assert df.loc["b", "lost"] == 10
    assert df.loc["b", "downstream_rate"] == pytest.approx(4 / 10)
    assert df.loc["b", "money_at_stake"] == pytest.approx(10 * 0.4 * 100 * 0.5)
    low, high = stats.wilson(4, 10)
    assert df.loc["b", "money_low"] == pytest.approx(10 * low * 100 * 0.5)
    assert df.loc["b", "money_high"] == pytest.approx(10 * high * 100 * 0.5)
    # b -> c: 6 lost (the 2 open ones are not lost), each would have converted
    assert df.loc["c", "lost"] == 6 and df.loc["c", "in_progress"] == 2
    assert df.loc["c", "money_at_stake"] == pytest.approx(6 * 1.0 * 100 * 0.5)
    assert df.loc["b", "share_of_lost"] == pytest.approx(10 / 16)
    # fewer people lost at b -> c, but each was worth more: it ranks first
    assert res.df["to_step"].tolist() == ["c", "b"]
    assert "between b and c" in res.headline and "£300" in res.headline


def test_ranking_follows_money_not_headcount():
    res = funnel_log().hotspots(["a", "b", "c"], value_per_conversion=10.0)
    money = res.df["money_at_stake"].to_numpy()
    assert (np.diff(money) <= 0).all()
    assert res.params["value_source"] == "argument"


def test_without_values_ranks_by_conversions_lost():
    j = make_journey([(1, "2024-01-01", "a"), (1, "2024-01-02", "b"), (2, "2024-01-01", "a"),
                      (9, "2024-06-01", "z")])
    res = j.hotspots(["a", "b"])
    assert np.isnan(res.df["money_at_stake"]).all()
    assert "value_per_conversion" in res.headline


@pytest.fixture(scope="module")
def acme(acme_built):
    truth = yaml.safe_load((acme_built / "truth.yml").read_text())["effects"]
    return cjlib.open(acme_built), truth


def test_sample_failing_step_is_the_worst_hotspot(acme):
    j, truth = acme
    fail = truth["failing_step"]
    steps = [*fail["funnel"], "purchase"]
    res = j.hotspots(steps, window="30d")
    top = res.df.iloc[0]
    assert f"{top['from_step']} -> {top['to_step']}" == fail["step"]
    funnel = res.tables["funnel"].set_index("step_name")
    started, done = funnel.loc["id_check_started", "reached"], funnel.loc[
        "id_check_completed", "reached"]
    assert (started, done) == (fail["started"], fail["completed"])
    assert 1 - done / started == pytest.approx(fail["observed_failure_rate"], abs=1e-6)
    assert "id_check_started and id_check_completed" in res.headline
    res.chart().to_dict()


def test_sample_worst_lead_source(acme):
    j, truth = acme
    res = j.funnel(["quote", "purchase"], by="source", window="30d")
    final = res.df[res.df["step"] == 2].set_index("source")
    assert final["rate_overall"].idxmin() == truth["lead_source"]["worst_source"]
    assert f"worst {truth['lead_source']['worst_source']}" in res.headline
