"""Bad input: every case either stops with an error naming file/row/column/expectation, or
quarantines the row with its reason. Counts always reconcile."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from cjlib.config import find_workspace
from cjlib.errors import ConfigError, InputError
from cjlib.ingest import build_warehouse

CONTACTS = {
    "name": "contacts",
    "kind": "contacts",
    "files": "raw/contacts*.csv",
    "fields": {
        "crm_id": "ContactID",
        "email": "Email",
        "phone": "Mobile",
        "ts": {"column": "Created", "format": "%d/%m/%Y %H:%M"},
        "value": {"column": "Spend", "type": "money"},
        "segment": "Segment",
    },
}
HEADER = "ContactID,Email,Mobile,Created,Spend,Segment\n"
GOOD = "C1,ann@example.com,07700 900001,01/02/2024 10:00,£10.00,family\n"


def build(root: Path):
    ws = find_workspace(root)
    report = build_warehouse(ws, progress=False)
    assert report.reconciles
    return report, duckdb.connect(str(ws.warehouse_path), read_only=True)


def only_reject(con) -> tuple:
    rows = con.execute(
        'SELECT source_file, source_row, "column", code, value FROM rejects'
    ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def contacts_ws(make_workspace, body: str, **source_overrides):
    source = {**CONTACTS, **source_overrides}
    return make_workspace([source], {"raw/contacts.csv": HEADER + GOOD + body})


# ------------------------------------------------------------------ file-level errors


def test_wrong_encoding_names_file_and_line(make_workspace):
    content = (HEADER + GOOD).encode() + "C2,b@example.com,,02/02/2024 10:00,£1,Caf\xe9\n".encode(
        "latin-1"
    )
    root = make_workspace([CONTACTS], {"raw/contacts.csv": content})
    with pytest.raises(InputError) as err:
        build(root)
    message = str(err.value)
    assert "contacts.csv" in message and "row 3" in message
    assert "not valid utf-8" in message and "read.encoding" in message


def test_declared_cp1252_is_decoded(make_workspace):
    content = (HEADER + "C1,a@example.com,,01/02/2024 10:00,€ 5,Café\n").encode("cp1252")
    root = make_workspace(
        [{**CONTACTS, "read": {"encoding": "cp1252"}}], {"raw/contacts.csv": content}
    )
    _, con = build(root)
    assert con.execute("SELECT segment, n_events FROM customers").fetchall() == [("Café", 1)]


def test_wrong_delimiter_is_explained(make_workspace):
    body = (HEADER + GOOD).replace(",", ";")
    root = make_workspace([{**CONTACTS, "read": {"delimiter": ","}}], {"raw/contacts.csv": body})
    with pytest.raises(InputError) as err:
        build(root)
    message = str(err.value)
    assert "mapped column 'ContactID'" in message and "contacts.csv" in message
    assert "set read.delimiter" in message


def test_missing_mapped_column(make_workspace):
    root = make_workspace(
        [CONTACTS], {"raw/contacts.csv": HEADER.replace("Mobile", "Phone") + GOOD}
    )
    with pytest.raises(InputError) as err:
        build(root)
    assert "column 'Mobile'" in str(err.value)
    assert "row 1" in str(err.value)


def test_duplicated_header(make_workspace):
    header = "ContactID,Email,Mobile,Created,Spend,Email\n"
    root = make_workspace([CONTACTS], {"raw/contacts.csv": header + GOOD})
    with pytest.raises(InputError) as err:
        build(root)
    assert "names column 'Email' twice (columns 2 and 6)" in str(err.value)


def test_empty_file(make_workspace):
    root = make_workspace([CONTACTS], {"raw/contacts.csv": ""})
    with pytest.raises(InputError, match=r"contacts.csv: the file is empty \(0 bytes\)"):
        build(root)


def test_header_only_file_is_zero_rows_not_an_error(make_workspace):
    root = make_workspace([CONTACTS], {"raw/contacts.csv": HEADER})
    report, _ = build(root)
    assert report.files[["rows_read", "accepted"]].values.tolist() == [[0, 0]]


def test_glob_matching_no_file(make_workspace):
    root = make_workspace([{**CONTACTS, "files": "raw/nothing*.csv"}], {"raw/contacts.csv": GOOD})
    with pytest.raises(ConfigError, match=r"'raw/nothing\*.csv' match no file"):
        build(root)


def test_unknown_kind_names_the_source(make_workspace):
    root = make_workspace([{**CONTACTS, "kind": "leadz"}], {"raw/contacts.csv": HEADER})
    with pytest.raises(ConfigError) as err:
        find_workspace(root).config  # noqa: B018 - loading is the test
    assert "sources['contacts'].kind" in str(err.value)


def test_unknown_canonical_field(make_workspace):
    fields = {**CONTACTS["fields"], "emial": "Email"}
    root = make_workspace([{**CONTACTS, "fields": fields}], {"raw/contacts.csv": HEADER})
    with pytest.raises(ConfigError, match=r"unknown canonical field.*emial"):
        find_workspace(root).config  # noqa: B018


def test_invalid_timezone(make_workspace):
    root = make_workspace([CONTACTS], {"raw/contacts.csv": HEADER}, timezone="Europe/Londn")
    with pytest.raises(ConfigError, match="timezone: 'Europe/Londn' is not an IANA time zone"):
        find_workspace(root).config  # noqa: B018


def test_yaml_syntax_error(tmp_path):
    (tmp_path / "client.yml").write_text("client: x\nsources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        find_workspace(tmp_path).config  # noqa: B018


def test_source_without_identifier(make_workspace):
    fields = {"ts": "Created"}
    root = make_workspace([{**CONTACTS, "fields": fields}], {"raw/contacts.csv": HEADER})
    with pytest.raises(ConfigError, match="maps no identifier"):
        find_workspace(root).config  # noqa: B018


# ------------------------------------------------------------------ quarantined rows


@pytest.mark.parametrize(
    ("row", "column", "code", "value"),
    [
        (
            "C2,b@example.com,,31/02/2024 10:00,£1,x\n",
            "Created",
            "bad_timestamp",
            "31/02/2024 10:00",
        ),
        ("C2,b@example.com,,2024/02/02,£1,x\n", "Created", "bad_timestamp", "2024/02/02"),
        ("C2,b@example.com,,02/02/2024 10:00,£-5.00,x\n", "Spend", "negative_money", "£-5.00"),
        ("C2,b@example.com,,02/02/2024 10:00,12abc,x\n", "Spend", "bad_money", "12abc"),
        (
            "C2,b@example.com,,02/02/2099 10:00,£1,x\n",
            "Created",
            "future_timestamp",
            "02/02/2099 10:00",
        ),
        (
            "C2,b@example.com,,02/02/1900 10:00,£1,x\n",
            "Created",
            "ancient_timestamp",
            "02/02/1900 10:00",
        ),
        ("C2,b@example.com,,,£1,x\n", "Created", "missing_timestamp", None),
        (",,,02/02/2024 10:00,£1,x\n", "ContactID,Email,Mobile", "no_identifier", None),
        ("C2,b@example.com,call me,02/02/2024 10:00,£1,x\n", "Mobile", "bad_phone", "<phone>"),
        ("C2,not-an-email,,02/02/2024 10:00,£1,x\n", "Email", "bad_email", "<email>"),
        (
            "C2,b@example.com,,02/02/2024 10:00,£1,\"=cmd|' /C calc'!A0\"\n",
            "Segment",
            "formula",
            "=cmd|' /C calc'!A0",
        ),
    ],
    ids=[
        "impossible-date",
        "wrong-date-format",
        "negative-money",
        "unparseable-money",
        "future-date",
        "placeholder-1900-date",
        "missing-timestamp",
        "no-identifier",
        "not-a-phone",
        "not-an-email",
        "spreadsheet-formula",
    ],
)
def test_unusable_row_is_quarantined_with_reason(make_workspace, row, column, code, value):
    root = contacts_ws(make_workspace, row)
    report, con = build(root)
    assert only_reject(con) == ("raw/contacts.csv", 3, column, code, value)
    assert report.files[["rows_read", "accepted", "rejected"]].values.tolist() == [[2, 1, 1]]


def test_truncated_last_line(make_workspace):
    root = contacts_ws(make_workspace, "C2,b@example.com,07700 9")
    _, con = build(root)
    file, row, _, code, _ = only_reject(con)
    assert (file, row, code) == ("raw/contacts.csv", 3, "malformed_line")
    raw = con.execute("SELECT raw, reason FROM rejects").fetchone()
    assert "fewer columns" in raw[1]
    assert "b@example.com" not in raw[0] and "<email>" in raw[0]


def test_line_with_too_many_columns_and_later_rows_keep_their_line_numbers(make_workspace):
    body = "C2,b@example.com,,02/02/2024 10:00,£1,x,EXTRA\nC3,c@example.com,,bad,£1,x\n"
    root = contacts_ws(make_workspace, body)
    _, con = build(root)
    rows = con.execute("SELECT source_row, code FROM rejects ORDER BY source_row").fetchall()
    assert rows == [(3, "malformed_line"), (4, "bad_timestamp")]


def test_exact_duplicates_counted_and_kept_once(make_workspace):
    root = contacts_ws(make_workspace, GOOD + GOOD)
    report, con = build(root)
    assert report.files[["rows_read", "accepted", "duplicates"]].values.tolist() == [[3, 1, 2]]
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_duplicates_across_files_of_one_source(make_workspace):
    files = {"raw/contacts_1.csv": HEADER + GOOD, "raw/contacts_2.csv": HEADER + GOOD}
    root = make_workspace([CONTACTS], files)
    report, _ = build(root)
    assert report.files.duplicates.tolist() == [0, 1]


def test_bad_boolean_and_duration_and_strict_map(make_workspace):
    source = {
        "name": "calls",
        "kind": "calls",
        "files": "raw/calls.csv",
        "fields": {
            "phone": "Phone",
            "ts": "Start",
            "duration_s": "Dur",
            "outcome": {"column": "Res", "map": {"A": "answered"}, "strict_map": True},
        },
        "attrs": {"recorded": {"column": "Rec", "type": "bool"}},
    }
    body = (
        "Phone,Start,Dur,Res,Rec\n"
        "07700900001,2024-02-01 10:00:00,00:03:12,A,Y\n"
        "07700900001,2024-02-01 11:00:00,3 minutes,A,Y\n"
        "07700900001,2024-02-01 12:00:00,45,A,maybe\n"
        "07700900001,2024-02-01 13:00:00,45,Z,N\n"
    )
    root = make_workspace([source], {"raw/calls.csv": body})
    _, con = build(root)
    rejects = con.execute("SELECT source_row, code FROM rejects ORDER BY 1").fetchall()
    assert rejects == [(3, "bad_duration"), (4, "bad_bool"), (5, "unmapped_value")]
    ok = con.execute("SELECT duration_s, outcome, attrs->>'$.recorded' FROM events").fetchall()
    assert ok == [(192.0, "answered", "true")]


def test_malformed_json_line(make_workspace):
    source = {
        "name": "app",
        "kind": "events",
        "files": "raw/app.jsonl",
        "event": {"column": "type"},
        "fields": {"cookie_id": "device", "ts": "at"},
    }
    body = (
        '{"device": "d1", "at": "2024-02-01T10:00:00Z", "type": "login"}\n'
        "{not json\n"
        '{"device": "d1", "at": "2024-02-01T11:00:00Z", "type": "logout"}\n'
    )
    root = make_workspace([source], {"raw/app.jsonl": body})
    _, con = build(root)
    assert con.execute("SELECT source_row, code FROM rejects").fetchall() == [(2, "malformed_line")]
    assert con.execute("SELECT event, source_row FROM events ORDER BY ts").fetchall() == [
        ("login", 1),
        ("logout", 3),
    ]


# ------------------------------------------------------------------ values parsed right


def test_mixed_timezones_in_one_column(make_workspace):
    source = {**CONTACTS, "fields": {**CONTACTS["fields"], "ts": {"column": "Created"}}}
    body = (
        "C1,a@example.com,,2024-07-01 10:00:00,£1,x\n"  # naive: London summer time
        "C2,b@example.com,,2024-07-01T10:00:00Z,£1,x\n"  # UTC
        "C3,c@example.com,,2024-07-01T10:00:00+02:00,£1,x\n"  # CEST
    )
    root = make_workspace([source], {"raw/contacts.csv": HEADER + body})
    _, con = build(root)
    got = dict(con.execute("SELECT source_row, ts FROM events").fetchall())
    assert got == {
        2: datetime(2024, 7, 1, 9, 0),
        3: datetime(2024, 7, 1, 10, 0),
        4: datetime(2024, 7, 1, 8, 0),
    }


def test_local_times_across_dst_change_become_utc(make_workspace):
    body = (
        "C1,a@example.com,,31/03/2024 00:30,£1,x\n"  # GMT
        "C2,b@example.com,,31/03/2024 02:30,£1,x\n"  # BST (clocks went forward at 01:00)
        "C3,c@example.com,,27/10/2024 03:30,£1,x\n"  # back to GMT
    )
    root = make_workspace([CONTACTS], {"raw/contacts.csv": HEADER + body})
    _, con = build(root)
    got = dict(con.execute("SELECT source_row, ts FROM events").fetchall())
    assert got == {
        2: datetime(2024, 3, 31, 0, 30),
        3: datetime(2024, 3, 31, 1, 30),
        4: datetime(2024, 10, 27, 3, 30),
    }


def test_bom_is_not_part_of_the_first_column_name(make_workspace):
    content = ("\ufeff" + HEADER + GOOD).encode("utf-8")
    root = make_workspace([CONTACTS], {"raw/contacts.csv": content})
    _, con = build(root)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_european_money_and_phone_formats(make_workspace):
    source = {
        **CONTACTS,
        "read": {"delimiter": ";", "decimal": ",", "thousands": "."},
    }
    header = HEADER.replace(",", ";")
    body = "C1;a@example.com;06-12345678;01/02/2024 10:00;€ 1.234,50;x\n"
    root = make_workspace([source], {"raw/contacts.csv": header + body}, country="NL")
    _, con = build(root)
    assert con.execute("SELECT value FROM events").fetchone()[0] == 1234.5
    phone_hash = con.execute("SELECT id_hash FROM identities WHERE id_type='phone'").fetchone()[0]
    salt = (root / ".salt").read_text().strip()
    expected = duckdb.execute(
        "SELECT substr(sha256(? || '|phone|+31612345678'), 1, 32)", [salt]
    ).fetchone()[0]
    assert phone_hash == expected


def test_failed_ingest_leaves_previous_warehouse_intact(make_workspace):
    root = contacts_ws(make_workspace, "")
    build(root)
    before = (root / "warehouse.duckdb").read_bytes()
    (root / "raw" / "contacts.csv").write_text("")  # now the export is broken
    with pytest.raises(InputError):
        build_warehouse(find_workspace(root), progress=False)
    assert (root / "warehouse.duckdb").read_bytes() == before
    assert not list(root.glob(".warehouse.duckdb.building*"))
