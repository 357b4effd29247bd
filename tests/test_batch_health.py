"""Data health (cjlib.analyses.health): exact hand-derived answers on a tiny workspace, pandas
references on random event logs (hypothesis), and the sample client against its truth.yml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cjlib
from cjlib.analyses import health
from cjlib.config import find_workspace
from cjlib.errors import CjError
from cjlib.ingest import build_warehouse

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"

CONTACTS = """Email,Phone,Created,Campaign
ann@example.com,07700 900001,05/01/2024 10:00,Spring
bob@example.com,07700 900002,10/03/2024 09:00,Autumn
ann@example.com,07700 900001,05/01/2024 10:00,Spring
cat@example.com,07700 900003,31/02/2024 10:00,Spring
,,12/03/2024 10:00,Spring
"""
# line 4 repeats line 2 exactly (a duplicate); line 5 has an impossible date; line 6 no identifier
ORDERS = """Email,OrderDate,Amount
ann@example.com,20/01/2024 12:00,100.00
zed@example.com,02/04/2024 12:00,50.00
ann@example.com,01/07/2024 00:30,75.00
ann@example.com,15/04/2024 12:00,twelve
"""
# line 4: 00:30 on 1 July London time is 23:30 on 30 June UTC; line 5: an amount in words
CONFIG = {
    "client": "tiny",
    "name": "Tiny Ltd",
    "timezone": "Europe/London",
    "country": "GB",
    "currency": "GBP",
    "gross_margin": 0.3,
    "sources": [
        {"name": "contacts", "kind": "contacts", "files": "raw/contacts.csv",
         "fields": {"email": "Email", "phone": "Phone",
                    "ts": {"column": "Created", "format": "%d/%m/%Y %H:%M"}},
         "attrs": {"campaign": "Campaign"}},
        {"name": "orders", "kind": "orders", "files": "raw/orders.csv",
         "fields": {"email": "Email", "ts": {"column": "OrderDate", "format": "%d/%m/%Y %H:%M"},
                    "value": {"column": "Amount", "type": "money"}}},
    ],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("health") / "tiny"
    (root / "raw").mkdir(parents=True)
    (root / "raw" / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    (root / "raw" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (root / "client.yml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), encoding="utf-8")
    build_warehouse(find_workspace(root), progress=False)
    journey = cjlib.open(str(root))
    yield journey
    journey.con.close()


# ------------------------------------------------------------------ hand-derived tiny case


def test_files_rows_read_equal_accepted_plus_rejected_plus_duplicates(tiny):
    df = health.files(tiny).df.set_index("feed")
    assert df.loc["contacts", ["rows_read", "accepted", "rejected", "duplicates"]].tolist() == \
        [5, 2, 2, 1]
    assert df.loc["orders", ["rows_read", "accepted", "rejected", "duplicates"]].tolist() == \
        [4, 3, 1, 0]
    assert df["reconciles"].all()
    assert df.loc["contacts", "rejected_share"] == pytest.approx(2 / 5)


def test_overview_totals(tiny):
    row = health.overview(tiny).df.iloc[0]
    assert (row.feeds, row.files, row.rows_read, row.accepted, row.rejected, row.duplicates) == \
        (2, 2, 9, 5, 3, 1)
    assert (row.events, row.customers, row.files_not_reconciling) == (5, 3, 0)
    assert row.accepted_share == pytest.approx(5 / 9)


def test_rejects_one_line_per_feed_problem_and_column_with_file_and_row(tiny):
    df = health.rejects(tiny).df
    got = {(r.feed, r.code, r.column if isinstance(r.column, str) else None, r.rows,
            r.example_rows) for r in df.itertuples()}
    assert got == {
        ("contacts", "bad_timestamp", "Created", 1, "raw/contacts.csv:5"),
        ("contacts", "no_identifier", "Email,Phone", 1, "raw/contacts.csv:6"),
        ("orders", "bad_money", "Amount", 1, "raw/orders.csv:5"),
    }
    assert set(df["problem"]) == {"date/time not readable", "no email, phone or customer number",
                                  "amount not readable"}


def test_rejects_examples_never_show_email_or_phone(tiny):
    result = health.rejects(tiny)
    text = result.df.to_string() + result.headline
    assert "cat@example.com" not in text
    assert "900003" not in text and "07700" not in text
    assert "31/02/2024" in text  # the unreadable value itself is shown


def test_rejects_examples_limited_to_the_requested_number(tiny):
    df = health.rejects(tiny, examples=1, max_chars=10).df
    assert all(len(str(v)) <= 10 for v in df["example_raw"])
    assert all("," not in v for v in df["example_rows"])


def test_coverage_fills_empty_months_with_zero_over_the_whole_period(tiny):
    df = health.coverage(tiny).df
    months = pd.date_range("2024-01-01", "2024-07-01", freq="MS")
    assert list(df.loc[df.feed == "contacts", "period"]) == list(months)
    contacts = df[df.feed == "contacts"].set_index("period")["events"]
    assert contacts.to_dict() == {m: (1 if m.month in (1, 3) else 0) for m in months}


def test_coverage_uses_client_timezone(tiny):
    orders = health.coverage(tiny).df.query("feed == 'orders'").set_index("period")["events"]
    # 00:30 on 1 July in London is 30 June in UTC: it belongs to July for the client
    assert orders[pd.Timestamp("2024-07-01")] == 1
    assert orders[pd.Timestamp("2024-06-01")] == 0


def test_coverage_counts_empty_periods_inside_each_feeds_own_span(tiny):
    feeds = health.coverage(tiny).tables["feeds"].set_index(["feed", "event"])
    assert feeds.loc[("contacts", "contact_created"), "empty_periods"] == 1  # February
    assert feeds.loc[("orders", "purchase"), "empty_periods"] == 4  # Feb, Mar, May, Jun
    assert feeds.loc[("orders", "purchase"), ["events", "customers"]].tolist() == [3, 2]


def test_stitching_share_of_each_feeds_customers_seen_elsewhere(tiny):
    result = health.stitching(tiny)
    df = result.df.set_index("feed")
    assert df.loc["contacts", ["customers", "linked_customers"]].tolist() == [2, 1]
    assert df.loc["orders", ["customers", "linked_customers"]].tolist() == [2, 1]
    assert df.loc["orders", "linked_by"] == "email"
    reach = result.tables["reach"].set_index("n_feeds")["customers"].to_dict()
    assert reach == {1: 2, 2: 1}


def test_values_of_an_attribute(tiny):
    df = health.values(tiny, "campaign").df
    assert {(r.feed, r.value, r.events) for r in df.itertuples()} == \
        {("contacts", "Spring", 1), ("contacts", "Autumn", 1)}


def test_values_of_a_canonical_column(tiny):
    df = health.values(tiny, "event").df
    assert {(r.feed, r.value, r.events) for r in df.itertuples()} == \
        {("contacts", "contact_created", 2), ("orders", "purchase", 3)}


def test_ingest_level_health_needs_a_warehouse():
    journey = cjlib.from_events(pd.DataFrame({"customer_id": [1], "ts": [pd.Timestamp("2024")],
                                              "event": ["x"]}))
    for function in (health.overview, health.files, health.rejects, health.stitching):
        with pytest.raises(CjError, match="warehouse"):
            function(journey)
    assert health.coverage(journey).df["events"].sum() == 1


def test_every_health_chart_builds(tiny):
    for result in (health.files(tiny), health.rejects(tiny), health.coverage(tiny),
                   health.stitching(tiny), health.values(tiny, "campaign")):
        assert result.chart().to_dict()["$schema"].startswith("https://vega.github.io")


def test_coverage_on_a_filtered_journey_keeps_only_its_customers(tiny):
    sub = tiny.where(start="2024-03-01")  # customers first seen from March: bob and zed
    assert health.coverage(sub).df["events"].sum() == 2


# ------------------------------------------------------------------ random logs vs pandas


def _reference_coverage(frame: pd.DataFrame, tz: str, grain: str) -> pd.DataFrame:
    local = frame["ts"].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    freq = {"month": "M", "week": "W-SUN", "day": "D"}[grain]
    period = local.dt.to_period(freq).dt.start_time
    counts = frame.assign(period=period).groupby(["feed", "period"]).size()
    step = {"month": "MS", "week": "7D", "day": "D"}[grain]
    grid = pd.MultiIndex.from_product(
        [sorted(frame["feed"].unique()), pd.date_range(period.min(), period.max(), freq=step)],
        names=["feed", "period"],
    )
    return counts.reindex(grid, fill_value=0).rename("events").reset_index()


events_strategy = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.datetimes(min_value=pd.Timestamp("2023-10-01").to_pydatetime(),
                     max_value=pd.Timestamp("2024-05-31").to_pydatetime()),
        st.sampled_from(["quote", "purchase", "call"]),
        st.sampled_from(["web", "crm", "phone"]),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events_strategy, grain=st.sampled_from(["month", "week", "day"]),
       tz=st.sampled_from(["UTC", "Europe/London", "America/New_York"]))
def test_coverage_matches_pandas_reference(rows, grain, tz):
    frame = pd.DataFrame(rows, columns=["customer", "ts", "event", "feed"])
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    journey = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                                feed="feed", timezone=tz)
    got = health.coverage(journey, grain=grain).df
    want = _reference_coverage(frame, tz, grain)
    got = got.assign(period=got["period"].astype("datetime64[us]")).reset_index(drop=True)
    want = want.assign(period=want["period"].astype("datetime64[us]"))
    pd.testing.assert_frame_equal(got[["feed", "period", "events"]], want, check_dtype=False)


@settings(max_examples=25, deadline=None)
@given(rows=events_strategy)
def test_feeds_table_matches_pandas_reference(rows):
    frame = pd.DataFrame(rows, columns=["customer", "ts", "event", "feed"])
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    journey = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                                feed="feed")
    got = health.coverage(journey).tables["feeds"].set_index(["feed", "event"]).sort_index()
    want = frame.groupby(["feed", "event"]).agg(
        events=("ts", "size"), customers=("customer", "nunique"),
        first_ts=("ts", "min"), last_ts=("ts", "max"),
    ).sort_index()
    assert got["events"].tolist() == want["events"].tolist()
    assert got["customers"].tolist() == want["customers"].tolist()
    assert list(got["first_ts"].astype("datetime64[us]")) == list(want["first_ts"])
    month = frame["ts"].dt.to_period("M")
    for feed, months in month.groupby(frame["feed"]):
        span = (months.max() - months.min()).n + 1
        empty = span - months.nunique()
        assert (got.loc[feed, "empty_periods"] == empty).all()


@settings(max_examples=25, deadline=None)
@given(rows=events_strategy, top=st.integers(1, 5))
def test_values_match_pandas_reference(rows, top):
    frame = pd.DataFrame(rows, columns=["customer", "ts", "event", "feed"])
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    journey = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                                feed="feed")
    got = health.values(journey, "event", top=top).df
    counts = frame.groupby(["feed", "event"]).size()
    assert len(got) == min(top, len(counts))
    for r in got.itertuples():
        assert r.events == counts[(r.feed, r.value)]
    assert got["events"].tolist() == sorted(counts, reverse=True)[:top]


# ------------------------------------------------------------------ the sample client


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory):
    source = SAMPLE / "acme-motor"
    if not (source / "truth.yml").exists():
        pytest.skip("sample client acme-motor not generated (run `cj sample`)")
    target = tmp_path_factory.mktemp("acme") / "acme-motor"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("warehouse.duckdb", ".salt"))
    build_warehouse(find_workspace(target), progress=False)
    journey = cjlib.open(str(target))
    truth = yaml.safe_load((target / "truth.yml").read_text(encoding="utf-8"))
    yield journey, truth
    journey.con.close()


def test_sample_files_reconcile_with_the_generators_truth(acme):
    journey, truth = acme
    df = health.files(journey).df
    df["name"] = df["source_file"].map(lambda p: Path(p).name)
    got = df.set_index("name")
    for name, spec in truth["files"].items():
        assert got.loc[name, "rows_read"] == spec["rows"], name
        assert got.loc[name, "duplicates"] == spec["duplicates"], name
        assert got.loc[name, "accepted"] == spec["expected_accepted"], name


def test_sample_reject_reasons_match_the_planted_broken_rows(acme):
    journey, truth = acme
    df = health.rejects(journey).df
    df["name"] = df["example_rows"].map(lambda s: Path(s.split(":")[0]).name)
    got = df.groupby(["name", "code"])["rows"].sum().to_dict()
    want: dict[tuple[str, str], int] = {}
    for name, spec in truth["files"].items():
        for broken in spec["broken"]:
            key = (name, broken["reason"])
            want[key] = want.get(key, 0) + 1
    assert got == want


def test_sample_reject_examples_hold_no_raw_contact_details(acme):
    journey, _ = acme
    text = health.rejects(journey, examples=50, max_chars=10_000).df.to_string()
    raw = (Path(journey.workspace.raw_dir) / "contacts.csv").read_text(encoding="utf-8-sig")
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", raw))
    assert emails and not any(e in text for e in emails)
