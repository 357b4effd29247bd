"""Journey analyses on real public data, checked against independent pandas computations
(and the datasets' published sizes).

- IBM telco churn: the retention curve by contract, pooled over monthly cohorts, multiplies out
  to the Kaplan-Meier survival curve of tenure (churn = event), computed in pandas.
- pm4py receipt log (BPI WABO, 1,434 cases / 8,577 events / 27 activities): directly-follows
  counts and durations, variants and case durations vs pandas.
- Olist marketing funnel (8,000 MQLs, 842 closed deals): monthly cohorts of first contact and
  the month each lead was won, in the São Paulo time zone, vs a pandas cohort table.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import cjlib
from cjlib.analyses.paths import transitions
from cjlib.analyses.process import process_map
from cjlib.analyses.retention import retention
from tests.journey_helpers import ARROW, REALDATA

pytestmark = pytest.mark.skipif(not REALDATA.exists(), reason="shared/realdata not present")


def _utc(local: pd.Series, tz: str) -> pd.Series:
    """Naive local times -> naive UTC (non-existent local times shifted forward)."""
    return (local.dt.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
            .dt.tz_convert("UTC").dt.tz_localize(None))


# ---------------------------------------------------------------------------- telco churn


SNAPSHOT = datetime(2018, 1, 1)
TELCO_TZ = "America/Chicago"


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    df = pd.read_csv(REALDATA / "telco_churn" / "Telco-Customer-Churn.csv")
    assert len(df) == 7043 and (df.Churn == "Yes").sum() == 1869   # published counts
    return df


def _telco_events(df: pd.DataFrame) -> pd.DataFrame:
    """One 'active' event per month a customer was a customer: months 0..tenure-1 for churners
    (they left during month `tenure`), 0..tenure for stayers (still active in the snapshot
    month). Customers start `tenure` months before the snapshot; events on the 2nd at noon,
    local time."""
    stay = (df.Churn == "No").to_numpy()
    months = df.tenure.to_numpy() + stay.astype(int)
    idx = np.repeat(np.arange(len(df)), months)
    offset = np.concatenate([np.arange(m) for m in months])
    start_month = -df.tenure.to_numpy()[idx] + offset           # months relative to snapshot
    local = pd.Series(pd.to_datetime([
        f"{2018 + (m // 12)}-{(m % 12) + 1:02d}-02 12:00" for m in start_month]))
    return pd.DataFrame({"customer": df.customerID.to_numpy()[idx],
                         "ts": _utc(local, TELCO_TZ), "event": "active",
                         "contract": df.Contract.to_numpy()[idx]})


def _kaplan_meier(tenure: pd.Series, churn: pd.Series) -> pd.Series:
    """S(t) for t = 0..max tenure: product over k <= t of 1 - d_k / n_k."""
    t = np.arange(tenure.max() + 1)
    at_risk = np.array([(tenure >= k).sum() for k in t])
    deaths = np.array([((tenure == k) & churn).sum() for k in t])
    return pd.Series(np.cumprod(1 - deaths / at_risk), index=t)


def test_telco_retention_by_contract_is_kaplan_meier(telco):
    events = _telco_events(telco)
    j = cjlib.from_events(events, customer_id="customer", ts="ts", event="event",
                          segment="contract", timezone=TELCO_TZ)
    survival = {}
    for contract, group in telco.groupby("Contract"):
        res = retention(j.where(segment=contract), period="month", max_periods=73,
                        data_end=_utc(pd.Series([pd.Timestamp("2018-02-01")]), TELCO_TZ)[0])
        curve = res.tables["curve"].set_index("period")
        ours = curve.rate.cumprod()
        km = _kaplan_meier(group.tenure, group.Churn == "Yes")
        assert np.allclose(ours.to_numpy(), km.loc[ours.index].to_numpy(), atol=1e-12)
        assert len(ours) == 73
        survival[contract] = km.loc[12]
    assert survival["Month-to-month"] < survival["One year"] < survival["Two year"]


# ---------------------------------------------------------------------------- receipt log


@pytest.fixture(scope="module")
def receipt() -> pd.DataFrame:
    df = pd.read_csv(REALDATA / "pm4py_logs" / "receipt.csv")
    df["ts"] = pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601").dt.tz_localize(
        None)
    df = df.rename(columns={"case:concept:name": "case", "concept:name": "activity"})
    return df[["case", "activity", "ts"]]


def test_receipt_log_published_size(receipt):
    assert (len(receipt), receipt.case.nunique(), receipt.activity.nunique()) == (8577, 1434, 27)


def test_receipt_process_map_matches_pandas(receipt):
    j = cjlib.from_events(receipt, customer_id="case", ts="ts", event="activity", case_id="case")
    res = process_map(j, top=10_000)
    # pandas: order each case by time (ties by activity name, as event_id does), shift
    log = receipt.sort_values(["case", "ts", "activity"])
    log["next"] = log.groupby("case").activity.shift(-1)
    log["gap"] = (log.groupby("case").ts.shift(-1) - log.ts).dt.total_seconds()
    pairs = log.dropna(subset=["next"]).groupby(["activity", "next"]).gap
    want = pd.DataFrame({"n": pairs.size(), "median_s": pairs.median(),
                         "p90_s": pairs.quantile(0.9)})
    got = res.df.set_index(["from_step", "to_step"])[["n", "median_s", "p90_s"]]
    got.index.names = want.index.names
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False)

    variants = log.groupby("case").activity.agg(ARROW.join).value_counts()
    v = res.tables["variants"].set_index("variant").cases
    assert v.to_dict() == variants.to_dict()
    span = log.groupby("case").ts.agg(lambda s: (s.max() - s.min()).total_seconds())
    summary = res.tables["summary"].iloc[0]
    assert summary.cases == 1434 and summary.steps == 8577
    assert summary.median_s == pytest.approx(span.median())
    assert summary.p90_s == pytest.approx(span.quantile(0.9))

    starts = log.groupby("case").activity.first().value_counts()
    t = transitions(j).df
    got_starts = t[t.from_state == "(start)"].set_index("to_state").n
    assert got_starts.to_dict() == starts.to_dict()


# ---------------------------------------------------------------------------- olist leads


OLIST_TZ = "America/Sao_Paulo"


def test_olist_monthly_cohorts_match_pandas():
    folder = REALDATA / "olist_funnel"
    mql = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    won = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    assert (len(mql), len(won)) == (8000, 842)                   # published sizes
    events = pd.concat([
        pd.DataFrame({"lead": mql.mql_id, "event": "mql",
                      "ts": _utc(pd.to_datetime(mql.first_contact_date), OLIST_TZ)}),
        pd.DataFrame({"lead": won.mql_id, "event": "won",
                      "ts": _utc(pd.to_datetime(won.won_date), OLIST_TZ)}),
    ], ignore_index=True)
    j = cjlib.from_events(events, customer_id="lead", ts="ts", event="event", timezone=OLIST_TZ)
    res = retention(j, "mql", "won", period="month", max_periods=24)

    # pandas: local month of first contact and of the win, wins at or after the first contact
    local = events.assign(local=events.ts.dt.tz_localize("UTC").dt.tz_convert(OLIST_TZ)
                          .dt.tz_localize(None))
    first = local[local.event == "mql"].set_index("lead")
    wins = local[local.event == "won"].merge(first[["ts", "local"]], left_on="lead",
                                             right_index=True, suffixes=("", "_0"))
    wins = wins[wins.ts >= wins.ts_0]
    cohort = first.local.dt.to_period("M")
    k = (wins.local.dt.to_period("M") - wins.local_0.dt.to_period("M")).map(lambda d: d.n)
    table = (wins.assign(cohort=wins.lead.map(cohort), k=k.to_numpy())
             .drop_duplicates(["lead", "k"]).groupby(["cohort", "k"]).size())
    sizes = cohort.value_counts()
    end_local = local.local.max()

    df = res.df
    got = {(pd.Period(c, "M"), p): r for c, p, r in zip(df.cohort, df.period,
                                                          df.itertuples(), strict=True)}
    assert {c for c, _ in got} == set(sizes.index)
    for (c, p), row in got.items():
        assert row.cohort_size == sizes[c]
        if p > 0:
            assert row.retained == table.get((c, p), 0), (c, p)
        period_end = (c + p + 1).to_timestamp()
        assert row.complete == (period_end <= end_local), (c, p)
    later = table[table.index.get_level_values("k") >= 1]
    assert later.sum() == df[df.period > 0].retained.sum() > 400
