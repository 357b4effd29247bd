"""The sample clients ingest exactly as their generator says they should: every file's counts,
every planted broken row quarantined with its reason, the stitching recovering the true persons,
no raw email or phone anywhere in the warehouse, and a rebuild giving the same warehouse."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from cjlib.config import find_workspace
from cjlib.ingest import build_warehouse
from cjlib.ingest.readers import read_file

from .conftest import SAMPLE_DIR

CLIENTS = ["acme-motor", "brightside-energy"]
CANONICAL_TABLES = ["events", "customers", "identities", "stitching", "rejects", "ingest_log"]


@pytest.fixture(scope="module", params=CLIENTS)
def built(request, tmp_path_factory) -> tuple[Path, dict, duckdb.DuckDBPyConnection]:
    source = SAMPLE_DIR / request.param
    if not (source / "truth.yml").exists():
        pytest.skip("sample clients not generated")
    root = tmp_path_factory.mktemp("ingest") / request.param
    shutil.copytree(source, root)
    build_warehouse(find_workspace(root), progress=False)
    truth = yaml.safe_load((root / "truth.yml").read_text())
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield root, truth, con
    con.close()


def test_every_file_reconciles_with_the_generator(built):
    _, truth, con = built
    log = con.execute(
        "SELECT source_file, rows_read, accepted, rejected, duplicates FROM ingest_log"
    ).df()
    log["file"] = log.source_file.str.removeprefix("raw/")
    log = log.set_index("file")
    assert set(log.index) == set(truth["files"])
    for name, expected in truth["files"].items():
        row = log.loc[name]
        assert row.rows_read == expected["rows"], name
        assert row.duplicates == expected["duplicates"], name
        assert row.rejected == expected["broken_rows"], name
        assert row.accepted == expected["expected_accepted"], name
        assert row.rows_read == row.accepted + row.rejected + row.duplicates


def test_every_planted_broken_row_is_quarantined_with_its_reason(built):
    _, truth, con = built
    rejects = con.execute('SELECT source_file, source_row, code, "column" FROM rejects').df()
    got = {
        (f.removeprefix("raw/"), int(r)): (c, col)
        for f, r, c, col in rejects.itertuples(index=False)
    }
    planted = [b for spec in truth["files"].values() for b in spec["broken"]]
    assert len(got) == len(planted)
    for broken in planted:
        code, column = got[(broken["file"], broken["row"])]
        assert code == broken["reason"], broken
        if code != "malformed_line":
            assert set(column.split(",")) == set(broken["column"].split(",")), broken


def test_events_per_name_match_the_truth(built):
    _, truth, con = built
    got = dict(con.execute("SELECT event, count(*) FROM events GROUP BY 1").fetchall())
    assert got == truth["events"]


def test_stitching_recovers_the_true_persons(built):
    _, truth, con = built
    persons = truth["persons"]
    assert (
        con.execute("SELECT count(*) FROM customers").fetchone()[0]
        == persons["expected_unified_customers"]
    )
    per_type = dict(
        con.execute(
            "SELECT id_type, count(DISTINCT customer_id) FROM identities GROUP BY 1"
        ).fetchall()
    )
    assert per_type == persons["with_identifier"]


def _raw_identifiers(root: Path) -> tuple[set[str], set[str]]:
    """Every email and phone (as digits) in the raw exports' mapped email/phone columns, read as
    plain text (the reader only splits the file; parsing and hashing are what is under test)."""
    ws = find_workspace(root)
    con = duckdb.connect()
    emails: set[str] = set()
    phones: set[str] = set()
    for source in ws.config.sources:
        columns = {k: v.column for k, v in source.fields.items() if k in ("email", "phone")}
        for index, path in enumerate(sorted(root.glob(source.files))):
            raw = read_file(con, path, source.read, f"t{index}_{source.name}")
            for kind, column in columns.items():
                values = con.execute(
                    f'SELECT DISTINCT trim("{column}") FROM "{raw.table}" '
                    f'WHERE "{column}" IS NOT NULL'
                ).fetchall()
                if kind == "email":
                    emails |= {v.lower() for (v,) in values if "@" in v}
                else:
                    phones |= {re.sub(r"\D", "", v) for (v,) in values}
    return emails, {p for p in phones if len(p) >= 9}


def test_no_raw_email_or_phone_anywhere_in_the_warehouse(built):
    root, _, con = built
    emails, phones = _raw_identifiers(root)
    assert len(emails) > 1000 and len(phones) > 1000  # the scan really found the raw values
    national = {p[-9:] for p in phones}  # the subscriber digits, whatever the prefix
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE 'VARCHAR[]'"
    ).fetchall()
    assert columns
    for table, column in columns:
        text = (
            con.execute(
                f'SELECT string_agg(CAST("{column}" AS VARCHAR), chr(10)) FROM "{table}"'
            ).fetchone()[0]
            or ""
        )
        found_emails = {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text)}
        assert not (found_emails & emails), (table, column)
        # Salted hashes are 32 hex digits: their digit runs are chance, not phones; leave them out.
        text = re.sub(r"\b[0-9a-f]{32}\b", "<hash>", text)
        digit_runs = {re.sub(r"\D", "", r) for r in re.findall(r"\d[\d \-()]{7,}\d", text)}
        assert not {r[-9:] for r in digit_runs if len(r) >= 9} & national, (table, column)


def test_rebuild_gives_the_same_warehouse(built, tmp_path):
    root, _, con = built
    copy = tmp_path / root.name
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("warehouse.duckdb"))
    build_warehouse(find_workspace(copy), progress=False)
    other = duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True)
    for table in CANONICAL_TABLES:
        first = con.execute(f"SELECT * FROM {table}").df()
        second = other.execute(f"SELECT * FROM {table}").df()
        pd.testing.assert_frame_equal(first, second, obj=table)


def test_customers_carry_segment_and_acquisition_source(built):
    _, _, con = built
    missing = con.execute(
        "SELECT count(*) FILTER (WHERE segment IS NULL), count(*) FILTER (WHERE source IS NULL) "
        "FROM customers WHERE list_contains(feeds, 'contacts') OR list_contains(feeds, 'klanten')"
    ).fetchone()
    assert missing == (0, 0)
