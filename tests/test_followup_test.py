"""Follow-up test: arms, lift and money on hand-made logs (numbers derived by hand), and the
planted test of the acme-motor sample (phone wins on margin despite its cost)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import cjlib
from cjlib.analyses import stats
from tests.conversion_helpers import make_journey

COLS = ("customer", "ts", "event", "case_id", "cost", "attrs", "value")


def two_arms(n_phone=10, k_phone=6, n_email=10, k_email=3, campaign="T1"):
    rows = []
    for arm, n, k, cost in (("phone", n_phone, k_phone, 5.0), ("email", n_email, k_email, 0.5)):
        for i in range(n):
            cust = f"{arm}{i}"
            case = f"Q-{arm}-{i}"
            rows.append((cust, "2024-01-01 10:00", "quote", case, None, None, 500.0))
            rows.append((cust, "2024-01-01 10:00:01", "test_assigned", case, cost,
                         json.dumps({"arm": arm, "campaign": campaign}), None))
            if i < k:
                rows.append((cust, "2024-01-05 10:00", "purchase", None, None, None, 400.0))
    rows.append(("other", "2024-01-01", "test_assigned", "X", 9.9,
                 json.dumps({"arm": "sms", "campaign": "other"}), None))
    return make_journey(rows, columns=COLS, gross_margin=0.25)


def test_rates_lift_and_money_by_hand():
    res = two_arms().followup_test(campaign="T1")
    df = res.df.set_index("arm")
    assert list(df.index) == ["email", "phone"]          # the sms arm belongs to another campaign
    assert df.loc["email", "is_control"]                  # cheapest arm is the control
    assert df.loc["phone", "rate"] == 0.6 and df.loc["email", "rate"] == 0.3
    assert df.loc["phone", "cost_per_contact"] == 5.0
    _lift, lo, hi = stats.diff_interval(6, 10, 3, 10)
    assert df.loc["phone", "lift"] == pytest.approx(0.3)
    assert (df.loc["phone", "lift_low"], df.loc["phone", "lift_high"]) == (lo, hi)
    # value per conversion = mean value of the converting purchases = 400; margin 25%
    assert res.params["value_per_conversion"] == 400.0
    assert df.loc["phone", "incremental_margin_per_contact"] == pytest.approx(
        0.3 * 400 * 0.25 - 4.5)
    assert df.loc["phone", "cost_per_incremental_conversion"] == pytest.approx(4.5 / 0.3)
    assert df.loc["phone", "break_even_cost"] == pytest.approx(0.5 + 0.3 * 400 * 0.25)
    assert res.headline.startswith("phone wins on margin over email")


def test_costs_and_value_arguments_override_the_data():
    res = two_arms().followup_test(campaign="T1", costs={"phone": 100.0},
                                   value_per_conversion=1000.0)
    phone = res.df.set_index("arm").loc["phone"]
    assert phone["incremental_margin_per_contact"] == pytest.approx(0.3 * 1000 * 0.25 - 99.5)
    assert res.headline.startswith("email wins on margin")


def test_conversion_outside_window_does_not_count():
    res = two_arms().followup_test(campaign="T1", window="3d")
    assert res.df["conversions"].tolist() == [0, 0]


def test_without_campaign_every_arm_is_compared():
    res = two_arms().followup_test()
    assert sorted(res.df["arm"]) == ["email", "phone", "sms"]
    assert np.isfinite(res.df.set_index("arm").loc["sms", "lift"])


@pytest.fixture(scope="module")
def acme(acme_built):
    truth = yaml.safe_load((acme_built / "truth.yml").read_text())["effects"]["followup_test"]
    return cjlib.open(acme_built), truth


def test_sample_phone_wins_on_margin_despite_its_cost(acme):
    j, truth = acme
    res = j.followup_test(arm_attr="arm", case_event="quote", conversion_event="purchase",
                          window="30d")
    df = res.df.set_index("arm")
    for arm in ("phone", "email"):
        assert df.loc[arm, "cases"] == truth["arms"][arm]["quotes"]
        assert df.loc[arm, "rate"] == pytest.approx(truth["arms"][arm]["observed_rate"], abs=1e-6)
        assert df.loc[arm, "cost_per_contact"] == pytest.approx(
            truth["arms"][arm]["cost_per_contact"])
    phone = df.loc["phone"]
    assert truth["winner"] == "phone"
    assert phone["incremental_margin_per_contact"] > 0
    assert (phone["incremental_margin_low"]
            <= truth["expected_incremental_margin_per_contact"]
            <= phone["incremental_margin_high"])
    assert phone["lift_low"] <= truth["expected_lift"] <= phone["lift_high"]
    assert res.headline.startswith("phone wins on margin") and "despite" in res.headline
    res.chart().to_dict()
