"""Real public exports no one here wrote, mapped through client.yml into a warehouse; counts are
checked against independent pandas computations."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cjlib.config import find_workspace
from cjlib.ingest import build_warehouse

from .conftest import REALDATA

pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata not present")


def _workspace(make_workspace, sources: list[dict], files: dict[str, Path], **config) -> Path:
    root = make_workspace(sources, {}, **config)
    for name, path in files.items():
        shutil.copy(path, root / name)
    return root


def test_olist_leads_and_deals(make_workspace):
    folder = REALDATA / "olist_funnel"
    sources = [
        {
            "name": "mqls",
            "kind": "quotes",
            "files": "raw/olist_marketing_qualified_leads_dataset.csv",
            "event": "mql",
            "fields": {
                "crm_id": "mql_id",
                "ts": {"column": "first_contact_date", "type": "date", "format": "%Y-%m-%d"},
                "source": "origin",
            },
            "attrs": {"landing_page": "landing_page_id"},
        },
        {
            "name": "deals",
            "kind": "orders",
            "files": "raw/olist_closed_deals_dataset.csv",
            "event": "deal_won",
            "fields": {
                "crm_id": "mql_id",
                "ts": "won_date",
                "value": {"column": "declared_monthly_revenue", "type": "money"},
                "segment": "business_segment",
            },
        },
    ]
    root = _workspace(
        make_workspace,
        sources,
        {
            "raw/olist_marketing_qualified_leads_dataset.csv": folder
            / "olist_marketing_qualified_leads_dataset.csv",
            "raw/olist_closed_deals_dataset.csv": folder / "olist_closed_deals_dataset.csv",
        },
        client="olist",
        timezone="America/Sao_Paulo",
        country="BR",
        currency="BRL",
    )
    report = build_warehouse(find_workspace(root), progress=False)
    assert report.reconciles

    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    counts = dict(con.execute("SELECT event, count(*) FROM events GROUP BY 1").fetchall())
    assert counts == {"mql": len(mqls), "deal_won": len(deals)}
    customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert customers == len(set(mqls.mql_id) | set(deals.mql_id))
    linked = con.execute(
        "SELECT count(*) FROM customers WHERE list_contains(feeds, 'mqls') "
        "AND list_contains(feeds, 'deals')"
    ).fetchone()[0]
    assert linked == deals.mql_id.isin(mqls.mql_id).sum()
    by_origin = dict(con.execute("SELECT source, count(*) FROM customers GROUP BY 1").fetchall())
    expected = mqls.groupby(mqls.origin.fillna("<none>")).size().to_dict()
    assert {k or "<none>": v for k, v in by_origin.items()} == expected
    revenue = con.execute("SELECT sum(value) FROM events WHERE event = 'deal_won'").fetchone()[0]
    assert revenue == pytest.approx(deals.declared_monthly_revenue.sum())


def test_pm4py_receipt_event_log(make_workspace):
    path = REALDATA / "pm4py_logs" / "receipt.csv"
    sources = [
        {
            "name": "receipt",
            "kind": "events",
            "files": "raw/receipt.csv",
            "event": {"column": "concept:name"},
            "fields": {
                "crm_id": "case:concept:name",
                "case_id": "case:concept:name",
                "ts": "time:timestamp",
                "channel": "case:channel",
            },
            "attrs": {"resource": "org:resource"},
        }
    ]
    root = _workspace(
        make_workspace,
        sources,
        {"raw/receipt.csv": path},
        client="wabo",
        timezone="Europe/Amsterdam",
        country="NL",
        currency="EUR",
    )
    report = build_warehouse(find_workspace(root), progress=False)
    assert report.reconciles

    log = pd.read_csv(path)
    log["ts"] = pd.to_datetime(log["time:timestamp"], utc=True, format="ISO8601").dt.tz_localize(
        None
    )
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == len(log)
    assert (
        con.execute("SELECT count(*) FROM customers").fetchone()[0]
        == log["case:concept:name"].nunique()
    )
    ours = (
        con.execute(
            "SELECT case_id, min(ts) AS first, max(ts) AS last FROM events GROUP BY 1 ORDER BY 1"
        )
        .df()
        .set_index("case_id")
    )
    theirs = log.groupby("case:concept:name")["ts"].agg(["min", "max"]).sort_index()
    assert (ours["first"].values == theirs["min"].values).all()
    assert (ours["last"].values == theirs["max"].values).all()
    activities = dict(con.execute("SELECT event, count(*) FROM events GROUP BY 1").fetchall())
    assert activities == log["concept:name"].value_counts().to_dict()
