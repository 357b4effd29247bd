"""The ingest's shortcuts give exactly what the plain computation gives: the cheaper parsing macros
against their general forms, exact-duplicate detection by hash against a comparison of every
column, and identity stitching (scipy components) against a plain-Python union-find."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import numpy as np
import pytest

from cjlib.config import find_workspace
from cjlib.db import load_sql
from cjlib.ingest import build_warehouse
from cjlib.ingest.stitch import row_customers, stitch

# The macros as they were before the shortcuts: the references the fast forms must equal.
REFERENCE_MACROS = r"""
CREATE OR REPLACE TEMP MACRO ref_duration(raw) AS
    CASE
        WHEN regexp_full_match(raw,
                               '([0-9]+ days? )?[0-9]+:[0-5]?[0-9]:[0-5]?[0-9](\.[0-9]+)?') THEN
            coalesce(try_cast(regexp_extract(raw, '([0-9]+) day', 1) AS DOUBLE), 0) * 86400
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 1) AS DOUBLE) * 3600
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 2) AS DOUBLE) * 60
            + cast(regexp_extract(raw, '([0-9]+):([0-9]+):([0-9.]+)$', 3) AS DOUBLE)
        ELSE cj_duration(raw)
    END;
CREATE OR REPLACE TEMP MACRO ref_phone_digits(raw) AS
    regexp_replace(replace(trim(raw), '(0)', ''), '[^0-9+]', '', 'g');
CREATE OR REPLACE TEMP MACRO ref_phone(raw, cc, trunk) AS
    CASE WHEN regexp_full_match(cj_phone_e164(ref_phone_digits(raw), cc, trunk),
                                '\+[1-9][0-9]{7,14}')
              AND NOT regexp_matches(trim(raw), '[A-Za-z]')
         THEN cj_phone_e164(ref_phone_digits(raw), cc, trunk) END;
CREATE OR REPLACE TEMP MACRO ref_email(raw) AS
    CASE WHEN regexp_full_match(lower(trim(raw)), '[^@\s]+@[^@\s]+\.[^@\s]{2,}')
         THEN lower(trim(raw)) END;
CREATE OR REPLACE TEMP MACRO ref_money(raw, dec, thou) AS
    CASE WHEN regexp_full_match(cj_money_core(raw), '\(-?[0-9][0-9,.]*\)')
         THEN -cj_number(regexp_replace(cj_money_core(raw), '[()-]', '', 'g'), dec, thou)
         WHEN regexp_full_match(cj_money_core(raw), '-?[0-9][0-9,.]*-?')
         THEN (CASE WHEN contains(cj_money_core(raw), '-') THEN -1 ELSE 1 END)
              * cj_number(replace(cj_money_core(raw), '-', ''), dec, thou)
    END;
"""

SPACES = [" ", "\u00a0", "\u2003", "\u3000", "\t", "\n", "\u200b", ""]
WORDS = ["", "x", "Ann", "é", "£10.00", "07700 900001", "a b", "=SUM(A1)", "-1", "+44 (0)7700"]


def texts() -> list[str | None]:
    """Short strings with every kind of edge: each space kind at either end, non-ASCII inside."""
    values: list[str | None] = [None]
    for word in WORDS:
        for left in SPACES:
            for right in SPACES:
                values.append(left + word + right)
    return values


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(load_sql("cjlib.ingest.sql", "macros"))
    con.execute(REFERENCE_MACROS)
    yield con
    con.close()


def differing(con, values: list, fast: str, reference: str) -> list:
    """The values for which the two expressions (of `v`) differ, NULL-aware."""
    con.execute("CREATE OR REPLACE TEMP TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    return con.execute(
        f"SELECT v, {fast}, {reference} FROM t WHERE ({fast}) IS DISTINCT FROM ({reference})"
    ).fetchall()


def test_trim_shortcut_equals_trim(con):
    assert differing(con, texts(), "cj_trim(v)", "trim(v)") == []


def test_formula_prefilter_equals_the_pattern(con):
    values = [*texts(), "=1+2", "+A1(", "@x!", "-x|", "-12", "=", "x=1(", "==("]
    assert differing(con, values, "cj_is_formula(v)", "regexp_matches(v, '^[=+@-].*[(!|]')") == []


def test_duration_shortcut_equals_the_general_branches(con):
    values = [None, "00:03:12", "12:59:59", "99:00:00", "1:02:03", "00:60:00", "00:3:12",
              "0 days 00:03:12", "2 days 01:00:00", "03:12", "192", "192.5", "3m12s", "1h2m",
              "00:03:12.5", "ab:cd:ef", "00:03:1", "000:03:12", " 00:03:12"]  # fmt: skip
    assert differing(con, values, "cj_duration(v)", "ref_duration(v)") == []


def test_phone_email_and_money_in_steps_equal_the_whole_macros(con):
    values = [*texts(), "07700 900001", "+44 7700 900001", "0044 (0) 7700 900001",
              "07700-900-001", "7700900001", "0770090000X", "+1 555 0100 999", "Ann@Example.COM ",
              "ann@example", "a@b.co", "(12.00)", "€ 1.234,50", "-12.00", "12.00-", "1234 EUR",
              "£1,234.50", "12..5", "(-3)"]  # fmt: skip
    assert differing(con, values, "cj_phone(v, '44', '0')", "ref_phone(v, '44', '0')") == []
    assert differing(con, values, "cj_email(v)", "ref_email(v)") == []
    for dec, thou in ((".", ","), (",", ".")):
        fast = f"cj_money(v, '{dec}', '{thou}')"
        assert differing(con, values, fast, f"ref_money(v, '{dec}', '{thou}')") == []


def test_literal_format_shortcut_matches_strptime(con):
    """A format without directives ('auto') can only match text containing it."""
    values = [*texts(), "auto", " auto ", "auto\t", "AUTO", "a uto", "autox", "2024-01-01"]
    fast = "CASE WHEN contains(v, 'auto') THEN try_strptime(v, 'auto') END"
    assert differing(con, values, fast, "try_strptime(v, 'auto')") == []


WEB = {
    "name": "web",
    "kind": "web",
    "files": "raw/web*.csv",
    "read": {"tz": "UTC"},
    "fields": {"ts": {"column": "ts", "format": "auto"}, "cookie_id": "cookie"},
    "attrs": {"page": "page", "note": "note"},
}


def test_duplicates_are_exact_repeats_of_every_column(make_workspace):
    """Repeats within and across files count as duplicates; rows whose text differs anywhere,
    even by a space the parse trims or in a column only one file has, do not."""
    header = "ts,cookie,page,note\n"
    rows = [
        "2024-01-01T10:00:00Z,k1,/a,x\n",
        "2024-01-01T10:00:00Z,k1,/a,x\n",  # repeat
        "2024-01-01T10:00:00Z,k1,/a, x\n",  # same once trimmed, but not the same text
        "2024-01-01T10:00:00Z,k1,/a,\n",
        "2024-01-01T10:00:00Z,k1,/a,\n",  # repeat of a row with a missing cell
        "2024-01-01T10:00:01Z,k1,/a,x\n",
    ]
    first = rows[0].rstrip("\n")
    second = f"ts,cookie,page,note,extra\n{first},\n{first},y\n"
    root = make_workspace([WEB], {"raw/web1.csv": header + "".join(rows), "raw/web2.csv": second})
    report = build_warehouse(find_workspace(root), progress=False)
    files = report.files.set_index("source_file")
    assert files.loc["raw/web1.csv", "duplicates"] == 2
    assert files.loc["raw/web2.csv", "duplicates"] == 1  # same as web1's first row, extra empty
    assert report.reconciles


def reference_components(rows: list[list[int]], n_nodes: int) -> list[int]:
    """Union-find over the identifiers each row carries: the component of every node."""
    parent = list(range(n_nodes))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ids in rows:
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(x) for x in range(n_nodes)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stitching_components_equal_union_find(seed, tmp_path: Path):
    rng = random.Random(seed)
    n_nodes = 300
    rows = [rng.sample(range(n_nodes), rng.choice([1, 1, 2, 3])) for _ in range(400)]
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TEMP TABLE stitch_nodes AS SELECT range + 1 AS node FROM range(300)")
    entries = [
        ((file << 32) | (2 + i), node + 1, rng.choice([None, 1_000 + i]))
        for i, ids in enumerate(rows)
        for file in [i % 3]
        for node in ids
    ]
    con.execute("CREATE TEMP TABLE row_ids (row_key BIGINT, node BIGINT, first_us BIGINT)")
    con.executemany("INSERT INTO row_ids VALUES (?, ?, ?)", entries)
    components = stitch(con)
    labels = dict(con.execute("SELECT node, label FROM stitch_labels").fetchall())
    expected = reference_components(rows, n_nodes)
    # The same partition of the identifiers (labels are arbitrary numbers).
    pairs = {(expected[n - 1], label) for n, label in labels.items()}
    assert len(pairs) == len(set(expected)) == len(set(labels.values()))
    # Each component's first activity: the earliest first_us of its rows (NULL-free minimum).
    first = dict(con.execute("SELECT label, first_us FROM component_first").fetchall())
    for root in set(expected):
        times = [t for (_, node, t) in entries if expected[node - 1] == root and t is not None]
        label = labels[expected.index(root) + 1]
        assert first[label] == (min(times) if times else np.iinfo(np.int64).max)
    # Every row gets its identifiers' customer.
    con.execute(
        "CREATE TEMP TABLE component_customer AS "
        "SELECT label, row_number() OVER (ORDER BY label) AS customer_id "
        "FROM (SELECT DISTINCT label FROM stitch_labels)"
    )
    row_customers(con, components)
    node_customer = dict(con.execute("SELECT node, customer_id FROM node_customer").fetchall())
    row_customer = dict(con.execute("SELECT row_key, customer_id FROM row_customer").fetchall())
    assert len(row_customer) == len(rows)
    for row_key, node, _ in entries:
        assert row_customer[row_key] == node_customer[node]


def test_events_written_in_customer_ranges_equal_one_sort(acme_built, tmp_path, monkeypatch):
    """The events table written one range of customers at a time (as at 100M events) is the
    table one sort gives, row for row and in the same physical order."""
    import shutil

    import cjlib.ingest.build as build

    copy = tmp_path / "acme-ranges"
    shutil.copytree(acme_built, copy)
    n_events = duckdb.connect(str(acme_built / "warehouse.duckdb"), read_only=True).execute(
        "SELECT count(*) FROM events").fetchone()[0]
    monkeypatch.setattr(build, "EVENTS_PER_SORT", n_events // 7)
    ran: list[str] = []
    run_script = build._run_script
    monkeypatch.setattr(build, "_run_script",
                        lambda con, name, params=None: (ran.append(name),
                                                        run_script(con, name, params)))
    build_warehouse(find_workspace(copy), progress=False)
    assert ran.count("events") >= 7  # about n / (n // 7) ranges
    con = duckdb.connect()
    con.execute(f"ATTACH '{acme_built / 'warehouse.duckdb'}' AS one (READ_ONLY)")
    con.execute(f"ATTACH '{copy / 'warehouse.duckdb'}' AS ranges (READ_ONLY)")
    for table in ("events", "customers"):
        numbered = "SELECT row_number() OVER () AS n, * FROM {}." + table
        differ = con.execute(
            f"SELECT count(*) FROM (({numbered.format('one')}) EXCEPT ALL "
            f"({numbered.format('ranges')}))").fetchone()[0]
        sizes = {db: con.execute(f"SELECT count(*) FROM {db}.{table}").fetchone()[0]
                 for db in ("one", "ranges")}
        assert differ == 0 and sizes["one"] == sizes["ranges"], table
