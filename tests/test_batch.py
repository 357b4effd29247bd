"""Batch building blocks: run folders and the latest pointer, engagement files, run-to-run diffs,
reading nuggets, offline HTML checks, table formatting. (End-to-end runs: test_batch_e2e.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cjlib.batch import runs
from cjlib.batch.engagement import load_engagement, slug
from cjlib.batch.metrics import diff, nuggets_from_outputs
from cjlib.batch.notebooks import discover, missing_modules, required_modules
from cjlib.errors import ConfigError
from cjlib.report.html import Page, client_outputs, remote_references, render_page, strip_remote
from cjlib.report.nuggets import NUGGETS_MIME, nugget_rows
from cjlib.report.tables import format_frame, table_html

# ------------------------------------------------------------------ run folders


def test_run_id_is_a_sortable_utc_timestamp():
    assert runs.new_run_id(datetime(2026, 11, 22, 20, 30, 0, tzinfo=UTC)) == "20261122T203000Z"
    ids = [runs.new_run_id(datetime(2026, m, d, h, tzinfo=UTC))
           for m, d, h in ((1, 2, 3), (11, 1, 0), (2, 28, 23))]
    assert sorted(ids) == [ids[0], ids[2], ids[1]]


def test_a_run_never_overwrites_another(tmp_path):
    first = runs.create_run_dir(tmp_path, "20261122T203000Z")
    (first / "index.html").write_text("first")
    second = runs.create_run_dir(tmp_path, "20261122T203000Z")
    third = runs.create_run_dir(tmp_path, "20261122T203000Z")
    assert [p.name for p in (first, second, third)] == [
        "20261122T203000Z", "20261122T203000Z-2", "20261122T203000Z-3"]
    assert (first / "index.html").read_text() == "first"
    assert runs.run_dirs(tmp_path) == [first, second, third]


def test_previous_run_is_the_newest_earlier_run_with_metrics(tmp_path):
    a = runs.create_run_dir(tmp_path, "20260101T000000Z")
    b = runs.create_run_dir(tmp_path, "20260102T000000Z")
    c = runs.create_run_dir(tmp_path, "20260103T000000Z")
    (a / runs.METRICS_FILE).write_text("{}")
    assert runs.previous_run(c) == a  # b wrote no metrics
    (b / runs.METRICS_FILE).write_text("{}")
    assert runs.previous_run(c) == b
    assert runs.previous_run(a) is None


def test_latest_is_a_relative_symlink_to_the_newest_successful_run(tmp_path):
    a = runs.create_run_dir(tmp_path, "20260101T000000Z")
    b = runs.create_run_dir(tmp_path, "20260102T000000Z")
    runs.set_latest(a)
    runs.set_latest(b)
    link = tmp_path / "latest"
    assert link.is_symlink() and Path(link.readlink()) == Path(b.name)
    assert runs.latest_run(tmp_path) == b.resolve()
    assert runs.run_dirs(tmp_path) == [a, b]  # the link is not a run


def test_latest_falls_back_to_a_file_without_symlinks(tmp_path, monkeypatch):
    a = runs.create_run_dir(tmp_path, "20260101T000000Z")

    def no_symlinks(self, *args, **kwargs):
        raise OSError("symlinks unavailable")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    marker = runs.set_latest(a)
    assert marker.name == "LATEST" and marker.read_text().strip() == a.name
    assert not (tmp_path / "latest").exists()
    assert runs.latest_run(tmp_path) == a


# ------------------------------------------------------------------ engagement files


def test_engagement_lists_clients_with_parameters_and_relative_paths(tmp_path):
    ws = tmp_path / "clients" / "acme"
    ws.mkdir(parents=True)
    (ws / "client.yml").write_text("client: acme\n")
    eng = tmp_path / "eng" / "q4.yml"
    eng.parent.mkdir()
    eng.write_text(
        "name: Q4 review\nparameters: {start: 2025-01-01, window: 14d}\nclients:\n"
        "  - beta\n  - path: ../clients/acme\n    parameters: {window: 7d}\n"
    )
    name, jobs = load_engagement(eng, {"end": "2025-07-01"})
    assert name == "Q4 review"
    assert [(j.label, j.location) for j in jobs] == [("beta", "beta"), ("acme", str(ws))]
    # command line over the client's entry over the file's parameters; dates as ISO text
    assert jobs[1].parameters == {"start": "2025-01-01", "window": "7d", "end": "2025-07-01"}
    assert jobs[0].parameters["window"] == "14d"


def test_engagement_errors_are_readable(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("clients: 3\n")
    with pytest.raises(ConfigError, match="clients"):
        load_engagement(bad)
    with pytest.raises(ConfigError, match="no such"):
        load_engagement(tmp_path / "missing.yml")


def test_slug_makes_a_safe_folder_name():
    assert slug("acme-motor") == "acme-motor"
    assert slug("../etc/passwd") == "etc-passwd"
    assert slug("") == "client"


# ------------------------------------------------------------------ run-to-run diff


def _measure(label, value, kind="int"):
    return {"label": label, "value": value, "kind": kind}


def test_diff_reports_moved_appeared_and_disappeared_measures():
    before = {"measures": {"events": _measure("Events", 1000), "customers": _measure("C", 10),
                           "old": _measure("Old one", 5),
                           "share": _measure("Share", 0.5, "pct")}}
    after = {"measures": {"events": _measure("Events", 1100), "customers": _measure("C", 10),
                          "new": _measure("New one", 7),
                          "share": _measure("Share", 0.45, "pct")}}
    changes = {c.label: c for c in diff(before, after)}
    assert set(changes) == {"Events", "Old one", "New one", "Share"}  # C did not move
    assert (changes["Events"].before, changes["Events"].after) == ("1,000", "1,100")
    assert changes["Events"].change == "+100 (+10.0%)" and changes["Events"].css == "cj-up"
    assert changes["Share"].change == "-5.0 points" and changes["Share"].css == "cj-down"
    assert changes["New one"].change == "new measure"
    assert changes["Old one"].change == "no longer measured"


def test_diff_reports_findings_that_appeared_disappeared_or_moved():
    def nugget(key, rank):
        return {"key": key, "rank": rank, "headline": f"finding {key}", "money": None}

    before = {"measures": {}, "nuggets": [nugget("a", 1), nugget("b", 2), nugget("c", 3)]}
    after = {"measures": {}, "nuggets": [nugget("b", 1), nugget("a", 2), nugget("d", 3)]}
    got = {c.label: (c.before, c.after, c.change) for c in diff(before, after)}
    assert got == {
        "Finding: finding b": ("#2", "#1", "moved up"),
        "Finding: finding a": ("#1", "#2", "moved down"),
        "Finding: finding d": ("–", "#3", "new finding"),
        "Finding: finding c": ("#3", "–", "no longer found"),
    }


def test_findings_are_compared_only_when_both_runs_scanned_for_them():
    found = {"measures": {}, "nuggets": [{"key": "a", "rank": 1, "headline": "h", "money": 1.0}]}
    not_scanned = {"measures": {}, "nuggets": None}
    assert diff(not_scanned, found) == [] and diff(found, not_scanned) == []
    assert [c.change for c in diff({"measures": {}, "nuggets": []}, found)] == ["new finding"]


def test_nothing_changed_gives_no_lines():
    same = {"measures": {"events": _measure("Events", 3)},
            "nuggets": [{"key": "a", "rank": 1, "headline": "h", "money": 1.0}]}
    assert diff(same, same) == []


# ------------------------------------------------------------------ nuggets, whatever shape


class _Nugget:
    def __init__(self, headline, money, key):
        self.headline, self.money_at_stake, self.key = headline, money, key


def test_nugget_rows_from_objects_dicts_and_frames():
    objects = [_Nugget("Call quotes within 20 minutes", 1200.0, "latency"),
               _Nugget("ID check fails", None, "failing_step")]
    rows = nugget_rows(objects)
    assert rows == [
        {"rank": 1, "key": "latency", "headline": "Call quotes within 20 minutes",
         "money": 1200.0},
        {"rank": 2, "key": "failing_step", "headline": "ID check fails", "money": None},
    ]
    frame = pd.DataFrame({"headline": ["x", "y"], "money": [3.0, float("nan")]})
    assert [(r["headline"], r["money"]) for r in nugget_rows(frame)] == [("x", 3.0), ("y", None)]
    assert nugget_rows([{"title": "t", "impact": (5, 1, 9)}])[0]["money"] == 5.0
    assert nugget_rows(None) == [] and len(nugget_rows(objects, top=1)) == 1


def test_nuggets_are_read_back_from_an_executed_notebook():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("report.show_nuggets(j.nuggets())")
    rows = [{"rank": 1, "key": "k", "headline": "h", "money": 2.0}]
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<ol></ol>", NUGGETS_MIME: {"currency": "GBP", "nuggets": rows}})]
    nb.cells = [cell]
    assert nuggets_from_outputs([nb]) == rows
    assert nuggets_from_outputs([nbformat.v4.new_notebook()]) is None


# ------------------------------------------------------------------ offline HTML


def test_remote_references_finds_every_kind_of_fetch():
    page = (
        '<script src="https://cdn.example/vega.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        '<img src="http://example.org/logo.png">'
        '<style>@import url("https://x.example/a.css"); .a {background: url(//y.example/b)}</style>'
        '<iframe src="https://example.com"></iframe>'
    )
    assert len(remote_references(page)) == 6
    assert remote_references(strip_remote(page)) == []


def test_links_and_inline_data_are_not_fetches():
    page = ('<a href="https://example.com/docs">docs</a>'
            '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
            '<a href="00_data_health.html">chapter</a>')
    assert remote_references(page) == []
    assert strip_remote(page) == page


def test_rendered_page_is_self_contained_and_branded():
    page = Page(client_name="Acme <Motor>", primary="#0B3D91", accent="#F2A900",
                logo="data:image/png;base64,iVBORw0KGgo=",
                nav=[{"title": "Overview", "href": "index.html", "current": True}])
    text = render_page(page, "Title", "<p>body</p>")
    assert remote_references(text) == []
    assert "<script" not in text
    assert "--primary: #0B3D91" in text and "--accent: #F2A900" in text
    assert "Acme &lt;Motor&gt;" in text  # escaped
    assert 'src="data:image/png;base64,' in text


def test_client_outputs_drop_warnings_errors_parameters_and_bare_reprs():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("client = 'x'", metadata={"tags": ["parameters"]})
    params.outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret path")]
    body = nbformat.v4.new_code_cell("report.show(r)")
    body.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="DeprecationWarning"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<Journey>"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>kept</p>",
                                                     "text/plain": "kept"}),
        nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["tb"]),
    ]
    nb.cells = [params, body]
    cleaned = client_outputs(nb)
    assert cleaned.cells[0].outputs == []
    assert [o["output_type"] for o in cleaned.cells[1].outputs] == ["display_data"]
    assert len(nb.cells[1].outputs) == 4  # the original is untouched


# ------------------------------------------------------------------ tables


def test_table_formats_numbers_shares_dates_and_lists():
    frame = pd.DataFrame({
        "rows_read": [1234567, 5],
        "linked_share": [0.5, 0.12345],
        "premium": [724.733, 1000.0],
        "ratio": [2.3339, 1.0],
        "first_ts": pd.to_datetime(["2024-01-05 10:00", "2024-02-01 00:00"]),
        "linked_by": [["email", "phone"], ["crm_id"]],
    })
    shown = format_frame(frame)
    assert shown.columns.tolist() == ["Rows read", "Share tied", "Premium", "Ratio",
                                      "First event", "Tied through"]
    assert shown.iloc[0].tolist() == ["1,234,567", "50.0%", "725", "2.33", "05 Jan 2024 10:00",
                                      "email, phone"]
    assert shown.iloc[1, 1] == "12.3%"


def test_table_shows_shares_and_their_bounds_as_percentages_but_never_ratios():
    frame = pd.DataFrame({
        "rate_so_far": [0.303, 1.0], "low": [0.25, 0.9], "high": [0.35, 1.0],
        "ratio": [0.5, 0.9], "ratio_low": [0.4, 0.8], "score_low": [0.1, 0.2],
        "share_of_total": [1.5, 0.2],  # not a share: it exceeds 1
    })
    row = format_frame(frame).iloc[0].tolist()
    assert row == ["30.3%", "25.0%", "35.0%", "0.5", "0.4", "0.1", "1.5"]


def test_table_keeps_columns_whose_headers_read_alike():
    frame = pd.DataFrame({"step": [1], "step_name": ["quote"], "customer.source": ["web"]})
    assert format_frame(frame).columns.tolist() == ["Step", "step_name", "Lead source"]
    assert table_html(frame).count("<th class=") == 3


def test_table_html_escapes_and_notes_left_out_rows():
    frame = pd.DataFrame({"name": ["<b>x</b>"] * 12, "n": range(12)})
    text = table_html(frame, rows=10)
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text
    assert text.count("<tr>") == 11 and "First 10 of 12 rows." in text
    assert "<td class='num'>9</td>" in text and "<td class='text'>" in text


# ------------------------------------------------------------------ notebook requirements


def test_required_modules_follow_journey_methods_and_imports():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from cjlib import report\nfrom cjlib.analyses import health\n"
        "report.show(j.funnel(steps))\nreport.show(j.retention())")]
    assert required_modules(nb) == ("cjlib.analyses.funnel:funnel", "cjlib.analyses.health",
                                    "cjlib.analyses.retention:retention", "cjlib.report")


def test_missing_modules_names_what_does_not_exist():
    assert missing_modules(("cjlib.report", "cjlib.analyses.health:values")) == []
    assert missing_modules(("cjlib.analyses.no_such_thing",)) == ["cjlib.analyses.no_such_thing"]
    assert missing_modules(("cjlib.analyses.health:no_such_function",)) == [
        "cjlib.analyses.health:no_such_function"]


def test_the_report_notebooks_are_found_in_reading_order():
    specs = discover()
    names = [s.name for s in specs]
    assert names == sorted(names) and names[0].startswith("00_") and names[-1].startswith("90_")
    assert all({"client", "start", "end", "static_charts"} <= set(s.parameters) for s in specs)
    assert [s.name for s in discover(only=["00", "90"])] == [names[0], names[-1]]


# ------------------------------------------------------------------ branding


def test_pages_take_the_clients_name_colours_and_logo(tmp_path):
    import yaml

    from cjlib.batch.run import _page
    from cjlib.config import Workspace

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "client.yml").write_text(yaml.safe_dump({
        "client": "tiny", "name": "Tiny Ltd", "timezone": "Europe/London", "country": "GB",
        "currency": "GBP", "gross_margin": 0.3,
        "branding": {"primary": "#123456", "accent": "#abcdef", "logo": "assets/logo.png"},
        "sources": [{"name": "web", "kind": "web", "files": "raw/web.csv",
                     "fields": {"cookie_id": "c", "ts": "t"}}],
    }))
    page = _page(Workspace(tmp_path), "20260101T000000Z", "01 Jan 2024 to 31 Dec 2025",
                 {"start": "2025-01-01"})
    assert (page.client_name, page.primary, page.accent) == ("Tiny Ltd", "#123456", "#abcdef")
    assert page.logo.startswith("data:image/png;base64,")
    assert "01 Jan 2024 to 31 Dec 2025" in page.subtitle and "2025-01-01" in page.subtitle
    text = render_page(page, "Overview", "<p>x</p>")
    assert page.logo in text and "--primary: #123456" in text
