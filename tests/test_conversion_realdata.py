"""Conversion analyses on public data, checked against independent pandas computations.

- Olist marketing funnel (marketing-qualified leads -> closed deals, joined on mql_id): funnel
  counts with censoring, conversion by lead origin, lead-to-deal time quantiles.
- UCI bank marketing: campaign contacts -> subscription; conversion overall, by contact type (a
  step filter) and by number of contacts (a customer property breakdown).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cjlib

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
OLIST = REALDATA / "olist_funnel"
BANK = REALDATA / "bank_marketing"
WINDOW_DAYS = 180

if not REALDATA.exists():
    pytest.skip("shared/realdata is not available", allow_module_level=True)


@pytest.fixture(scope="module")
def olist() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")
    return leads, deals


@pytest.fixture(scope="module")
def olist_journey(olist):
    leads, deals = olist
    events = pd.concat([
        pd.DataFrame({"mql_id": leads["mql_id"], "ts": pd.to_datetime(leads["first_contact_date"]),
                      "event": "mql", "origin": leads["origin"]}),
        pd.DataFrame({"mql_id": deals["mql_id"], "ts": pd.to_datetime(deals["won_date"]),
                      "event": "won", "origin": None}),
    ], ignore_index=True)
    return cjlib.from_events(events, customer_id="mql_id", ts="ts", event="event",
                             source="origin", currency="BRL")


@pytest.fixture(scope="module")
def olist_expected(olist) -> pd.DataFrame:
    """Per lead, computed with pandas: converted (won at or after the first contact, within the
    window), in progress (not converted, window still open at the data end)."""
    leads, deals = olist
    x = leads.merge(deals[["mql_id", "won_date"]], on="mql_id", how="left")
    x["fc"] = pd.to_datetime(x["first_contact_date"])
    x["won"] = pd.to_datetime(x["won_date"])
    data_end = max(x["fc"].max(), x["won"].max())
    delay = x["won"] - x["fc"]
    window = pd.Timedelta(days=WINDOW_DAYS)
    x["converted"] = (delay >= pd.Timedelta(0)) & (delay <= window)
    x["in_progress"] = ~x["converted"] & (x["fc"] + window > data_end)
    x["delay_s"] = delay.dt.total_seconds().where(x["converted"])
    x["origin"] = x["origin"].fillna("(none)")
    return x


def test_olist_funnel_counts_with_censoring(olist_journey, olist_expected):
    x = olist_expected
    res = olist_journey.funnel(["mql", "won"], window=f"{WINDOW_DAYS}d")
    won = res.df.iloc[1]
    assert res.df["reached"].tolist() == [len(x), int(x["converted"].sum())]
    assert won["in_progress"] == int(x["in_progress"].sum())
    assert won["dropped"] == int((~x["converted"] & ~x["in_progress"]).sum())
    assert won["in_progress"] > 0  # late leads are censored, not lost


def test_olist_conversion_by_lead_origin(olist_journey, olist_expected):
    res = olist_journey.funnel(["mql", "won"], window=f"{WINDOW_DAYS}d", by="source")
    got = res.df[res.df["step"] == 2].set_index("source")["rate_overall"].sort_index()
    want = olist_expected.groupby("origin")["converted"].mean().sort_index()
    assert list(got.index) == list(want.index)
    assert np.allclose(got.to_numpy(), want.to_numpy())


def test_olist_lead_to_deal_latency_quantiles(olist_journey, olist_expected):
    res = olist_journey.time_to_convert(["mql", "won"], window=f"{WINDOW_DAYS}d")
    row = res.df.iloc[0]
    delays = olist_expected["delay_s"].dropna()
    assert row["n"] == len(delays)
    for col, q in (("p25_s", 0.25), ("median_s", 0.5), ("p75_s", 0.75), ("p95_s", 0.95)):
        assert row[col] == pytest.approx(delays.quantile(q))
    assert row["mean_s"] == pytest.approx(delays.mean())


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    b = pd.read_csv(BANK / "bank-additional.csv", sep=";")
    return b.reset_index(names="client")


@pytest.fixture(scope="module")
def bank_journey(bank):
    """Each client's `campaign` contacts one hour apart (no dates in the data), then the
    subscription one hour after the last contact when y == 'yes'."""
    base = pd.Timestamp("2010-01-01")
    contacts = bank.loc[bank.index.repeat(bank["campaign"]), ["client", "contact", "campaign"]]
    contacts["k"] = contacts.groupby("client").cumcount()
    contacts = contacts.assign(ts=base + pd.to_timedelta(contacts["k"], unit="h"),
                               event="contact")
    subs = bank[bank["y"] == "yes"][["client", "contact", "campaign"]].assign(
        ts=base + pd.to_timedelta(bank.loc[bank["y"] == "yes", "campaign"], unit="h"),
        event="subscribed")
    events = pd.concat([contacts.drop(columns="k"), subs], ignore_index=True)
    events["n_contacts"] = events["campaign"].clip(upper=6).astype(str).replace("6", "6+")
    tail = pd.DataFrame({"client": [-1], "ts": [pd.Timestamp("2011-01-01")], "event": ["end"],
                         "contact": [None], "n_contacts": [None]})
    events = pd.concat([events, tail], ignore_index=True)
    return cjlib.from_events(events, customer_id="client", ts="ts", event="event",
                             channel="contact", segment="n_contacts")


def test_bank_subscription_funnel(bank_journey, bank):
    df = bank_journey.funnel(["contact", "subscribed"], window="30d").df
    assert df["reached"].tolist() == [len(bank), int((bank["y"] == "yes").sum())]
    assert df["in_progress"].tolist() == [0, 0]


def test_bank_conversion_by_contact_type_step_filter(bank_journey, bank):
    for kind in ("cellular", "telephone"):
        df = bank_journey.funnel([{"event": "contact", "channel": kind}, "subscribed"]).df
        sub = bank[bank["contact"] == kind]
        assert df["reached"].tolist() == [len(sub), int((sub["y"] == "yes").sum())]


def test_bank_conversion_by_number_of_contacts(bank_journey, bank):
    df = bank_journey.funnel(["contact", "subscribed"], by="customer.segment").df
    got = df[df["step"] == 2].set_index("customer.segment")["rate_overall"].sort_index()
    groups = bank["campaign"].clip(upper=6).astype(str).replace("6", "6+")
    want = (bank["y"] == "yes").groupby(groups).mean().sort_index()
    assert list(got.index) == list(want.index)
    assert np.allclose(got.to_numpy(), want.to_numpy())
    assert got.iloc[0] > got.iloc[-1]  # more contacts, lower conversion (as in Moro et al.)
