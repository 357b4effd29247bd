"""The dashboard's data-only twins and widget logic, without a browser.

Headline figures are checked against hand-derived numbers on a tiny event log (one test per
filter rule) and against an independent pandas reference on random logs (hypothesis). Sections
are checked against the analyses they present, empty states and not-yet-installed analyses
against their friendly messages, and a failing callback against the no-traceback rule.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cjlib
from cjlib.widgets import analyses, format, safe, sections
from cjlib.widgets.app import Dashboard, open_dashboard
from cjlib.widgets.state import Choices, FilterState, choices
from cjlib.widgets.views import SectionView

from .dashboard_helpers import expected_overview, frames

REPO = Path(__file__).resolve().parents[1]

# u1..u4: first seen 5 Jan, 31 Jan 23:00, 1 Feb 00:00, 31 Dec; segments, lead sources, channels
# and purchase values chosen so each filter rule changes the figures.
TINY = pd.DataFrame(
    [
        ("u1", "2025-01-05 09:00", "page_view", "web", None, "family", "search"),
        ("u1", "2025-01-06 10:00", "quote", "web", 500.0, "family", "search"),
        ("u1", "2025-01-10 12:00", "purchase", "phone", 480.0, "family", "search"),
        ("u2", "2025-01-31 23:00", "quote", "phone", 300.0, "retired", "social"),
        ("u3", "2025-02-01 00:00", "quote", "web", 310.0, "family", "search"),
        ("u3", "2025-02-02 08:00", "purchase", "web", 300.0, "family", "search"),
        ("u4", "2024-12-31 18:00", "purchase", "web", 100.0, "young", "affiliate"),
    ],
    columns=["user", "ts", "event", "channel", "value", "segment", "source"],
).assign(ts=lambda d: pd.to_datetime(d.ts))


def tiny_journey(frame: pd.DataFrame = TINY, margin: float = 0.25):
    return cjlib.from_events(frame, customer_id="user", ts="ts", event="event",
                             channel="channel", value="value", segment="segment",
                             source="source", gross_margin=margin)


def overview(journey, **filters) -> dict[str, float | None]:
    view = sections.compute("overview", sections.context(journey, FilterState(**filters)))
    return {k.key: k.value for k in view.kpis}


# ---------------------------------------------------------------------- filter rules


def test_customers_count_when_first_seen_in_the_date_range_both_days_included():
    got = overview(tiny_journey(), start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert got["customers"] == 2  # u1 (5 Jan), u2 (31 Jan 23:00); not u3 (1 Feb), u4 (31 Dec)


def test_segment_filter_keeps_customers_of_that_segment():
    got = overview(tiny_journey(), segment="family")
    assert (got["customers"], got["with_case"], got["converted"]) == (2, 2, 2)  # u1, u3


def test_lead_source_filter_keeps_customers_acquired_from_it():
    got = overview(tiny_journey(), source="social")
    assert (got["customers"], got["with_case"], got["converted"]) == (1, 1, 0)  # u2


def test_channel_filter_keeps_only_that_channels_events():
    got = overview(tiny_journey(), channel="web")
    # u1's purchase was by phone, u2's quote by phone: only u1's and u3's web quotes count
    assert (got["with_case"], got["converted"], got["value"]) == (2, 2, 400.0)


def test_conversion_is_the_share_of_quoted_customers_who_bought():
    got = overview(tiny_journey())
    assert got["with_case"] == 3 and got["converted"] == 3  # u4 bought without a quote
    assert got["conversion"] == pytest.approx(2 / 3)


def test_value_is_the_sum_of_purchases_and_margin_uses_the_client_margin():
    view = sections.compute("overview", sections.context(tiny_journey(margin=0.25),
                                                          FilterState()))
    kpis = {k.key: k for k in view.kpis}
    assert kpis["value"].value == 880.0 and kpis["value"].text == "£880"
    assert kpis["margin"].value == 220.0 and kpis["margin"].text == "£220"


def test_an_empty_selection_is_a_friendly_empty_state():
    view = sections.compute("overview", sections.context(tiny_journey(),
                                                          FilterState(segment="nobody")))
    assert view.is_empty and "No customers" in view.empty


@st.composite
def event_logs(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        segment = draw(st.sampled_from(["a", "b", None]))
        source = draw(st.sampled_from(["s1", "s2", None]))
        for _ in range(draw(st.integers(1, 5))):
            rows.append((
                f"c{i}",
                pd.Timestamp("2025-01-01") + pd.Timedelta(hours=draw(st.integers(0, 24 * 60))),
                draw(st.sampled_from(["quote", "purchase", "page_view"])),
                draw(st.sampled_from(["web", "phone", "email"])),
                float(draw(st.integers(0, 900))),
                segment, source,
            ))
    frame = pd.DataFrame(rows, columns=["user", "ts", "event", "channel", "value", "segment",
                                        "source"])
    day = st.one_of(st.none(), st.dates(date(2024, 12, 25), date(2025, 3, 10)))
    selection = {
        "start": draw(day), "end": draw(day),
        "segment": draw(st.sampled_from([None, "a", "b"])),
        "channel": draw(st.sampled_from([None, "web", "phone"])),
        "source": draw(st.sampled_from([None, "s1", "s2"])),
    }
    return frame, selection


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs())
def test_headline_figures_match_a_pandas_reference_on_random_logs(case):
    frame, selection = case
    journey = tiny_journey(frame)
    events, customers = frames(journey)
    want = expected_overview(events, customers, **selection)
    view = sections.compute("overview", sections.context(journey, FilterState(**selection)))
    if want["customers"] == 0:
        assert view.is_empty
        return
    got = {k.key: k.value for k in view.kpis}
    for key in ("customers", "with_case", "converted", "value"):
        assert got[key] == pytest.approx(want[key]), key
    if want["with_case"]:
        assert got["conversion"] == pytest.approx(want["conversion"])
    else:
        assert got["conversion"] is None


def test_the_end_day_filter_is_inclusive_in_where_arguments():
    kwargs = FilterState(start=date(2025, 1, 1), end=date(2025, 1, 31)).where_kwargs()
    assert kwargs["start"] == pd.Timestamp("2025-01-01") and kwargs["end"] == pd.Timestamp(
        "2025-02-01")
    assert FilterState().where_kwargs() == {}


def test_choices_list_each_dimension_most_frequent_first():
    found = choices(tiny_journey())
    assert found.segment == ("family", "retired", "young")
    assert found.channel == ("web", "phone")
    assert found.first_day == date(2024, 12, 31) and found.last_day == date(2025, 2, 1)
    assert Choices(events=("purchase", "quote_start", "quote")).default_steps() == (
        "quote_start", "quote", "purchase")  # the reports' sales funnel, in journey order
    assert Choices(events=("page_view", "quote", "purchase")).default_steps() == (
        "quote", "purchase")
    assert Choices(events=("a", "b", "c", "d")).default_steps() == ("a", "b", "c")


def test_money_is_written_in_the_clients_currency():
    assert format.money(1234.4, "GBP") == "£1,234"
    assert format.money(-50, "EUR") == "-€50"
    assert format.money(2_500_000, "USD") == "$2.5m"
    assert format.money(10, "SEK") == "SEK 10"
    assert format.money(None, "GBP") == "–"
    assert format.money_short(73_927, "GBP") == "£74k"
    assert format.money_short(950, "GBP") == "£950"
    assert format.money_short(1_250_000, "GBP") == "£1.2m"


def test_the_page_wears_the_clients_colours_name_and_logo(tmp_path):
    from cjlib.widgets import render

    css = render.css("#0B3D91", "#F2A900")
    assert "#0B3D91" in css and "#F2A900" in css and "var(--cj-primary-default)" not in css
    assert "http" not in css  # nothing fetched: no web fonts, no remote images
    logo = tmp_path / "logo.svg"
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    uri = render.logo_data_uri(logo)
    assert uri.startswith("data:image/svg+xml;base64,")
    brand = render.brand_html("Acme <Motor>", "review", uri)
    assert uri in brand and "Acme &lt;Motor&gt;" in brand
    assert "class='cj-logo cj-initials'" in render.brand_html("Acme Motor", "", None)
    assert render.logo_data_uri(tmp_path / "missing.png") is None
    (tmp_path / "notes.txt").write_text("x")
    assert render.logo_data_uri(tmp_path / "notes.txt") is None


# ---------------------------------------------------------------------- sections


def test_follow_up_section_without_follow_ups_says_so():
    view = sections.compute("followup", sections.context(tiny_journey(), FilterState()))
    assert view.empty == "No follow-up data in this period."


def test_funnel_section_needs_two_steps_and_its_first_step():
    ctx = sections.context(tiny_journey(), FilterState(steps=("quote",)))
    assert "at least two steps" in sections.compute("funnel", ctx).empty
    ctx = sections.context(tiny_journey(), FilterState(steps=("inbound_call", "purchase")))
    assert sections.compute("funnel", ctx).empty == "No inbound call in this period."


def test_an_analysis_not_installed_yet_is_a_friendly_empty_state(monkeypatch):
    monkeypatch.setitem(analyses.TARGETS, "paths", ("cjlib.analyses._not_yet", "paths"))
    view = sections.compute("channels", sections.context(tiny_journey(), FilterState()))
    assert view.empty == sections.SECTIONS["channels"].unavailable
    monkeypatch.setitem(analyses.TARGETS, "paths", ("cjlib.analyses.stats", "no_such_function"))
    assert sections.compute("channels", sections.context(tiny_journey(), FilterState())).is_empty


def test_an_analysis_declining_the_selection_is_a_friendly_empty_state(monkeypatch, log_file):
    from cjlib.errors import CjError

    def declines(ctx):
        raise CjError("fewer than 30 purchasers: cannot fit BG/NBD")

    monkeypatch.setitem(sections.SECTIONS, "clv", sections.Section("clv", "Lifetime value",
                                                                   declines))
    view = sections.compute("clv", sections.context(tiny_journey(), FilterState()))
    assert view.empty == sections.NOT_ENOUGH
    assert "cannot fit BG/NBD" in log_file.read_text()


def test_a_missing_third_party_module_is_an_error_not_an_empty_state(monkeypatch):
    monkeypatch.setitem(analyses.TARGETS, "paths", ("no_such_package_xyz", "paths"))
    with pytest.raises(ImportError):
        sections.compute("channels", sections.context(tiny_journey(), FilterState()))


def test_optional_arguments_are_passed_under_the_name_the_analysis_accepts():
    def latency(j, *, bucket_width="5min"):
        return bucket_width

    def anything(j, **kwargs):
        return kwargs

    options = {"bucket": [("bucket", "10min"), ("bucket_width", "10min")]}
    assert analyses.accepted(latency, options) == {"bucket_width": "10min"}
    assert analyses.accepted(anything, options) == {"bucket": "10min"}
    assert analyses.accepted(lambda j: None, options) == {}


def test_sections_present_the_analyses_headlines_for_the_selection(acme_built):
    journey = cjlib.open(str(acme_built))
    state = FilterState(segment="family", steps=("quote_start", "quote", "purchase"))
    ctx = sections.context(journey, state)
    filtered = journey.where(segment=["family"])
    expected = {}
    if analyses.available("funnel"):
        expected["funnel"] = filtered.funnel(list(state.steps), window="30d").headline
    if analyses.available("paths"):
        expected["channels"] = filtered.paths(conversion_event="purchase").headline
    if analyses.available("clv"):
        expected["clv"] = filtered.clv(purchase_event="purchase").headline
    if not expected:
        pytest.skip("no analysis installed yet")
    for key, headline in expected.items():
        assert sections.compute(key, ctx).headlines[0] == headline, key


def test_findings_are_read_from_any_shape_the_scan_returns():
    frame = pd.DataFrame({"headline": ["Calls within 20 minutes double conversion", "Other"],
                          "money": [120_000.0, None], "money_low": [80_000.0, None],
                          "money_high": [160_000.0, None]})
    found = sections.findings_from(frame, "GBP")
    assert found[0].money_text == "£120k at stake (£80k to £160k)"
    assert found[1].money is None and found[1].money_text == ""

    class Nugget:
        headline = "ID check fails 9 times in 10"
        money_at_stake = 5000.0

    assert sections.findings_from([Nugget()], "EUR")[0].money_text == "€5k at stake"
    assert sections.findings_from([{"title": "x", "impact": (10.0, 5.0, 15.0)}], "GBP")[
        0].money_text == "£10 at stake (£5 to £15)"
    assert sections.findings_from(None, "GBP") == []


# ---------------------------------------------------------------------- widgets and callbacks


@pytest.fixture
def log_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "dashboard.log"
    monkeypatch.setenv(safe.LOG_ENV, str(path))
    return path


def test_safe_callback_logs_the_error_and_shows_a_friendly_message(log_file):
    shown = []

    @safe.safe_callback(shown.append, "test")
    def callback(_change):
        raise RuntimeError("secret detail /srv/clients/acme")

    assert callback({"new": 1}) is None
    assert len(shown) == 1 and "could not be updated" in shown[0]
    assert "secret" not in shown[0] and "Traceback" not in shown[0]
    reference = re.search(r"Reference (\w+)", shown[0]).group(1)
    logged = log_file.read_text()
    assert "Traceback" in logged and "secret detail" in logged and reference in logged


def live_dashboard(journey) -> Dashboard:
    dash = Dashboard(journey, FilterState(steps=("quote", "purchase")), choices(journey))
    dash.show_header()
    for key in ("channels", "followup"):
        dash.show(key)
    assert dash.wait()
    return dash


def test_a_failing_section_shows_the_friendly_message_and_no_traceback(log_file, monkeypatch):
    dash = live_dashboard(tiny_journey())

    def boom(ctx):
        raise ValueError("boom: internal detail")

    monkeypatch.setitem(sections.SECTIONS, "channels",
                        sections.Section("channels", "Channel journeys", boom))
    dash._header.segment.value = "family"  # a filter change in the browser
    assert dash.wait()
    body = dash._sections["channels"].body.value
    assert "could not be updated" in body and "boom" not in body and "Traceback" not in body
    assert "No follow-up data" in dash._sections["followup"].body.value  # others unaffected
    assert 'data-state=\'ready\'' in dash._header.status.value
    assert "boom: internal detail" in log_file.read_text()


def test_a_failing_filter_callback_shows_the_friendly_message(log_file, monkeypatch):
    dash = live_dashboard(tiny_journey())

    def broken(*args, **kwargs):
        raise KeyError("state internals")

    monkeypatch.setattr(dash, "set_state", broken)
    dash._header.channel.value = "web"
    assert "data-state='error'" in dash._header.status.value
    assert "could not be updated" in dash._header.overview.value
    assert "internals" not in dash._header.overview.value
    assert "state internals" in log_file.read_text()


def test_filter_widgets_drive_the_figures(log_file):
    journey = tiny_journey()
    dash = live_dashboard(journey)
    events, customers = frames(journey)
    settled = dash.generation
    dash._header.source.value = "search"
    dash._header.channel.value = "web"
    assert dash.wait()
    want = expected_overview(events, customers, start=dash.state.start, end=dash.state.end,
                             source="search", channel="web")
    html = dash._header.overview.value
    shown = dict(re.findall(r"data-kpi='(\w+)' data-value='([^']*)'", html))
    assert float(shown["customers"]) == want["customers"]
    assert float(shown["value"]) == want["value"]
    assert settled < dash.generation <= settled + 2
    assert "data-state='ready'" in dash._header.status.value
    dash._header.on_reset()
    assert dash.wait()
    assert dash.state.source is None and dash.state.channel is None
    shown = dict(re.findall(r"data-kpi='(\w+)' data-value='([^']*)'",
                            dash._header.overview.value))
    assert float(shown["customers"]) == len(customers)


def test_a_late_result_for_an_earlier_selection_is_never_drawn(log_file, monkeypatch):
    import threading

    release = threading.Event()
    channels = sections.SECTIONS["channels"]

    def slow_for_family(ctx):
        if ctx.state.segment == "family":
            release.wait(10)
        return SectionView(key="channels", headlines=[f"segment {ctx.state.segment}"])

    monkeypatch.setitem(sections.SECTIONS, "channels",
                        sections.Section("channels", channels.title, slow_for_family))
    dash = live_dashboard(tiny_journey())
    dash._header.segment.value = "family"  # slow ...
    dash._header.segment.value = "retired"  # ... overtaken by a newer selection
    release.set()
    assert dash.wait()
    assert "segment retired" in dash._sections["channels"].body.value
    time.sleep(0.2)  # the family result has arrived by now and must have been dropped
    assert "segment retired" in dash._sections["channels"].body.value


def test_the_slow_findings_scan_starts_once_the_other_sections_are_drawn(log_file, monkeypatch):
    times = {}

    def fast(ctx):
        time.sleep(0.3)
        times.setdefault("fast_done", []).append(time.perf_counter())
        return SectionView(key="channels", headlines=["fast"])

    def slow(ctx):
        times.setdefault("slow_start", []).append(time.perf_counter())
        return SectionView(key="nuggets", headlines=[f"findings for {ctx.state.segment}"])

    monkeypatch.setitem(sections.SECTIONS, "channels", sections.Section("channels", "", fast))
    monkeypatch.setitem(sections.SECTIONS, "nuggets", sections.Section("nuggets", "", slow))
    journey = tiny_journey()
    dash = Dashboard(journey, FilterState(steps=("quote", "purchase")), choices(journey))
    dash.show_header()
    dash.show("nuggets")
    dash.show("channels")
    assert dash.wait()
    times.clear()
    dash._header.segment.value = "family"
    assert dash.wait()
    assert min(times["slow_start"]) >= max(times["fast_done"])
    assert "findings for family" in dash._sections["nuggets"].body.value


def test_section_controls_refresh_only_their_section(log_file, monkeypatch):
    dash = Dashboard(tiny_journey(), FilterState(steps=("quote", "purchase")),
                     choices(tiny_journey()))
    dash.show("followup")
    seen = []
    original = dash.pool.request
    monkeypatch.setattr(dash.pool, "request", lambda k, s: seen.append(k) or original(k, s))
    assert dash.wait()
    controls = dash._sections["followup"].box.children[0]
    controls.children[0].value = 30
    assert dash.wait()
    assert seen == ["followup"] and dash.state.bucket_minutes == 30


# ---------------------------------------------------------------------- served kernel


@pytest.fixture
def private_acme(acme_built, tmp_path) -> Path:
    """A private copy: locking a warehouse down holds for the whole process."""
    target = tmp_path / "acme-motor"
    shutil.copytree(acme_built, target)
    return target


def test_the_dashboard_warehouse_refuses_files_outside_the_workspace(private_acme):
    acme_built = private_acme
    dash = open_dashboard(str(acme_built))
    probe = "SELECT * FROM read_text('/etc/hostname')"
    outside = f"SELECT * FROM read_csv('{acme_built / 'raw' / 'contacts.csv'}')"
    for journey in (dash.journey, dash.journey.where(segment=["family"])):
        for sql in (probe, outside, "ATTACH '/tmp/other.duckdb'"):
            with pytest.raises(Exception, match=r"(?i)permission|disabled"):
                journey.sql(sql)
        with pytest.raises(Exception, match=r"(?i)cannot enable external access"):
            journey.sql("SET enable_external_access = true")
    assert dash.view("overview").kpis[0].value > 0  # the dashboard itself still works


def test_static_mode_draws_charts_as_svg_without_widgets(private_acme):
    import altair as alt

    try:
        dash = open_dashboard(str(private_acme), static_charts=True)
        assert not dash.live and alt.renderers.active == "svg"
        chart = next(c for k in ("channels", "clv") for c in dash.view(k).charts)
        bundle = chart._repr_mimebundle_()
        bundle = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "image/svg+xml" in bundle and not any("widget" in k for k in bundle)
    finally:
        alt.renderers.enable("default")


# ---------------------------------------------------------------------- the notebook


def test_dashboard_notebook_is_thin_and_paired_with_its_script():
    import jupytext

    ipynb = jupytext.read(REPO / "notebooks" / "dashboard.ipynb")
    script = jupytext.read(REPO / "notebooks" / "dashboard.py")
    code = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert code(ipynb) == code(script)
    assert all(not c.get("outputs") for c in json.loads(
        (REPO / "notebooks" / "dashboard.ipynb").read_text())["cells"])
    assert "parameters" in ipynb.cells[0].metadata.get("tags", [])
    for source in code(ipynb):
        assert not re.search(r"^\s*(def|class) ", source, re.M)
        assert not re.search(r"\b(SELECT|FROM|WHERE)\b", source)
        assert len([ln for ln in source.splitlines() if ln and not ln.startswith("#")]) <= 6
    shown = re.findall(r'd\.show\("(\w+)"\)', "\n".join(code(ipynb)))
    assert shown == ["nuggets", "funnel", "followup", "channels", "process", "retention", "clv"]


def test_dashboard_notebook_follows_the_report_notebooks_hygiene_rules():
    hygiene = pytest.importorskip("cjlib.batch.hygiene")
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / "dashboard.ipynb", as_version=4)
    assert hygiene.code_problems(nb) == []
    assert hygiene.parameter_problems(nb) == []
    assert hygiene.output_problems(nb) == []
