"""Segments: RFM quintile scores against pandas.qcut and the named-segment rules, k-means
personas recovering planted clusters, segment descriptions against pandas, the
`with_segments` breakdown, and the sample client's planted personas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cjlib
from cjlib.analyses.segments import RFM_RULES, with_segments

from .value_helpers import T0, qcut_scores, rfm_segment_name


def _keyed(j, frame: pd.DataFrame) -> pd.DataFrame:
    keys = j.sql("SELECT customer_id, customer_key FROM customers")
    out = frame.merge(keys, on="customer_id")
    out["customer_key"] = out.customer_key.astype(int)
    return out.set_index("customer_key").sort_index()


def _purchase_log(n: int, seed: int) -> pd.DataFrame:
    """n customers with distinct purchase counts, distinct totals and distinct last purchase
    times (so the quintile edges are distinct and pandas.qcut applies)."""
    rng = np.random.default_rng(seed)
    counts = rng.permutation(np.arange(1, n + 1))
    rows = []
    for customer, k in enumerate(counts):
        last = 400 - customer * 1.5 - rng.random()
        days = [*np.sort(rng.uniform(0, last, k - 1)).tolist(), last]
        values = rng.uniform(1, 100, k)
        values[-1] += customer * 0.01 + rng.random()  # distinct totals
        rows += [(customer, T0 + pd.Timedelta(days=d), "purchase", "web", v)
                 for d, v in zip(days, values, strict=True)]
    rows += [(n + i, T0 + pd.Timedelta(days=i), "visit", "web", np.nan) for i in range(3)]
    return pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"])


def _journey(frame: pd.DataFrame, **kw) -> cjlib.journey.Journey:
    return cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                             channel="channel", value="value", **kw)


# ------------------------------------------------------------------------------ RFM


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(10, 60), st.integers(0, 10_000))
def test_rfm_scores_equal_pandas_qcut(n, seed) -> None:
    frame = _purchase_log(n, seed)
    j = _journey(frame)
    res = _keyed(j, j.segments().df)
    buyers = res[res.segment != "prospect"]
    end = frame.ts.max()
    per = frame[frame.event == "purchase"].groupby("customer").agg(
        last=("ts", "max"), frequency=("ts", "size"), monetary=("value", "sum"))
    per["recency"] = (end - per["last"]) / pd.Timedelta(days=1)
    per = per.loc[buyers.index]
    np.testing.assert_allclose(buyers.recency_days.to_numpy(float), per.recency, atol=1e-6)
    np.testing.assert_array_equal(buyers.frequency, per.frequency)
    np.testing.assert_allclose(buyers.monetary.to_numpy(float), per.monetary)
    np.testing.assert_array_equal(buyers.r_score, qcut_scores(-per.recency))
    np.testing.assert_array_equal(buyers.f_score, qcut_scores(per.frequency))
    np.testing.assert_array_equal(buyers.m_score, qcut_scores(per.monetary))


def test_rfm_named_segments_follow_the_documented_rules() -> None:
    frame = _purchase_log(80, 1)
    j = _journey(frame)
    df = j.segments().df
    buyers = df[df.segment != "prospect"]
    fm = (buyers.f_score + buyers.m_score + 1) // 2
    assert (buyers.fm_score == fm).all()
    expected = [rfm_segment_name(r, f) for r, f in zip(buyers.r_score, fm, strict=True)]
    assert buyers.segment.tolist() == expected
    assert set(df.segment) <= set(RFM_RULES)
    assert (df.segment == "prospect").sum() == 3


def test_rfm_tied_quintile_edges_skip_scores() -> None:
    """Frequencies 1,1,1,1,2: all quintile edges but the last are 1 (the 0.8 quantile is 1.2),
    so the one customer above them scores 5 and the others 1."""
    rows = [(c, T0 + pd.Timedelta(days=c), "purchase", "web", 10.0) for c in range(5)]
    rows.append((4, T0 + pd.Timedelta(days=9), "purchase", "web", 10.0))
    j = _journey(pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"]))
    res = _keyed(j, j.segments().df)
    assert res.f_score.tolist() == [1, 1, 1, 1, 5]


def test_rfm_end_drops_later_purchases() -> None:
    rows = [(0, T0, "purchase", "web", 10.0), (0, T0 + pd.Timedelta(days=50), "purchase",
                                                   "web", 10.0),
            (1, T0 + pd.Timedelta(days=1), "purchase", "web", 5.0)]
    j = _journey(pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"]))
    res = _keyed(j, j.segments(end=T0 + pd.Timedelta(days=10)).df)
    assert res.frequency.tolist() == [1, 1]
    assert res.recency_days.tolist() == [10, 9]


# ------------------------------------------------------------------------------ personas


def _planted_clusters(seed: int = 0, per: int = 60) -> tuple[pd.DataFrame, dict[int, str]]:
    """Three well-separated behaviours: web browsers who buy big, phone callers who buy small
    once, email readers who never buy."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    kinds = {"web_buyer": ("web", 20, 3, 800.0), "phone_once": ("phone", 3, 1, 60.0),
             "email_reader": ("email", 8, 0, 0.0)}
    customer = 0
    for name, (channel, n_events, n_buy, value) in kinds.items():
        for _ in range(per):
            start = rng.uniform(0, 300)
            k = max(1, int(rng.poisson(n_events)))
            times = np.sort(start + rng.uniform(0, 60, k + n_buy))
            for t in times[:k]:
                rows.append((customer, T0 + pd.Timedelta(days=t), "touch", channel, np.nan))
            for t in times[k:]:
                rows.append((customer, T0 + pd.Timedelta(days=t), "purchase", channel,
                             value * rng.uniform(0.8, 1.2)))
            truth[customer] = name
            customer += 1
    return pd.DataFrame(rows, columns=["customer", "ts", "event", "channel", "value"]), truth


def test_kmeans_recovers_well_separated_planted_clusters() -> None:
    from sklearn.metrics import adjusted_rand_score

    frame, truth = _planted_clusters()
    j = _journey(frame)
    res = j.segments(method="kmeans")
    got = _keyed(j, res.df)
    assert res.params["k"] == 3  # chosen by silhouette within 2..6
    ari = adjusted_rand_score([truth[c] for c in got.index], got.segment)
    assert ari > 0.9
    names = got.groupby(got.index.map(truth)).segment.agg(lambda s: s.mode()[0])
    assert "web-led, high value" in names["web_buyer"]
    assert "email-led, no purchases" in names["email_reader"]


def test_kmeans_is_deterministic_and_takes_k() -> None:
    frame, _ = _planted_clusters(seed=1, per=30)
    j = _journey(frame)
    a, b = j.segments(method="kmeans", k=4).df, j.segments(method="kmeans", k=4).df
    assert a.segment.nunique() == 4
    pd.testing.assert_frame_equal(a, b)


def test_segment_summary_equals_pandas() -> None:
    frame, _truth = _planted_clusters(seed=2, per=20)
    j = _journey(frame)
    res = j.segments(method="kmeans", k=3)
    summary = res.tables["summary"].set_index("segment")
    got = _keyed(j, res.df)
    f = frame.assign(segment=frame.customer.map(got.segment))
    buyers = f[f.event == "purchase"].groupby("customer").value.sum()
    per = got.assign(value=buyers.reindex(got.index).fillna(0.0),
                     bought=got.index.isin(buyers.index))
    by = per.groupby("segment")
    np.testing.assert_array_equal(summary.customers.loc[by.size().index], by.size())
    np.testing.assert_allclose(summary.value_per_customer.loc[by.size().index],
                               by.value.mean())
    np.testing.assert_allclose(summary.conversion.loc[by.size().index], by.bought.mean())
    top = f.groupby("segment").channel.agg(lambda s: s.value_counts().index[0])
    for seg, channel in top.items():
        assert summary.dominant_channels[seg].startswith(channel)
        assert seg in summary.description[seg] and "customers" in summary.description[seg]
    assert res.chart().to_dict()


def test_unknown_method_is_refused() -> None:
    frame, _ = _planted_clusters(per=3)
    with pytest.raises(cjlib.errors.CjError):
        _journey(frame).segments(method="magic")


# ------------------------------------------------------------------------------ as a breakdown


def test_with_segments_makes_the_assignment_a_breakdown() -> None:
    frame, _truth = _planted_clusters(seed=3, per=20)
    frame["segment"] = "old"
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value", segment="segment")
    seg = j.segments(method="kmeans", k=3)
    k = with_segments(j, seg)
    counts = k.sql("SELECT segment, count(*) AS n FROM customers GROUP BY segment")
    expected = seg.df.segment.value_counts()
    assert dict(zip(counts.segment, counts.n, strict=True)) == expected.to_dict()
    assert k.sql("SELECT DISTINCT original_segment FROM customers").original_segment.tolist() \
        == ["old"]
    clv = k.clv()
    assert set(clv.df.segment) == set(expected.index)
    # the original journey is untouched
    assert j.sql("SELECT DISTINCT segment FROM customers").segment.tolist() == ["old"]


def test_with_segments_keeps_the_journeys_filters() -> None:
    frame, _ = _planted_clusters(seed=4, per=10)
    frame["source"] = np.where(frame.customer % 2 == 0, "even", "odd")
    j = cjlib.from_events(frame, customer_id="customer", ts="ts", event="event",
                          channel="channel", value="value", source="source")
    rfm = j.segments()
    even = with_segments(j.where(source="even"), rfm)
    n_even = frame[frame.customer % 2 == 0].customer.nunique()
    assert even.sql("SELECT count(*) AS n FROM customers").n[0] == n_even
    assert even.sql("SELECT count(DISTINCT customer_id) AS n FROM events").n[0] == n_even


# ------------------------------------------------------------------------------ the sample client


def test_sample_planted_personas_are_distinguishable(acme_built) -> None:
    """The planted personas differ in web preference (young_urban 0.8 ... retired 0.3) and
    premium (small_business 1150 > young_urban 780 > family 620 > retired 410)."""
    from scipy.stats import chi2_contingency

    j = cjlib.open(acme_built)
    planted = j.sql("SELECT customer_id, segment AS planted FROM customers "
                    "WHERE segment IS NOT NULL")
    rfm = j.segments().df.merge(planted, on="customer_id")
    buyers = rfm[rfm.segment != "prospect"]
    first_value = j.sql(
        "SELECT customer_id, arg_min(value, ts) AS first_value FROM events "
        "WHERE event = 'purchase' GROUP BY customer_id").merge(planted, on="customer_id")
    order = first_value.groupby("planted").first_value.mean().sort_values().index.tolist()
    assert order == ["retired", "family", "young_urban", "small_business"]
    assert buyers.groupby("planted").m_score.mean().idxmax() == "small_business"
    assert buyers.groupby("planted").m_score.mean().idxmin() == "retired"

    personas = j.segments(method="kmeans").df.merge(planted, on="customer_id")
    table = pd.crosstab(personas.segment, personas.planted)
    assert chi2_contingency(table).pvalue < 1e-6
    web = j.sql("SELECT customer_id, avg((channel = 'web')::int) AS web FROM events "
                "GROUP BY customer_id").merge(planted, on="customer_id")
    web_share = web.groupby("planted").web.mean()
    assert web_share.idxmax() == "young_urban" and web_share.idxmin() == "retired"
