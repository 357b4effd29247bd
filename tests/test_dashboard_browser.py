"""The served dashboard in a real headless Chromium (Debian's, driven by Playwright).

A built copy of the acme-motor sample gets a batch-like run whose `latest/dashboard.ipynb` is the
dashboard notebook baked by papermill; `cj serve`'s `start` serves it on a free localhost port.
Checks: the page loads with findings, charts and filters; every filter moves the figures to
exactly what cjlib (and an independent pandas reference) computes for that selection; no console
error; no request leaves 127.0.0.1; no code, traceback or personal data in the page; other
clients and other files are out of reach; a failing callback shows a friendly message. A
screenshot and the measured timings are written to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pandas as pd
import pytest

import cjlib
from cjlib.serve import start
from cjlib.serve.runs import source_notebook
from cjlib.serve.voila import ServeOptions, Server, free_port
from cjlib.widgets import analyses, sections
from cjlib.widgets.state import FilterState, choices

from .dashboard_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, expected_overview, frames

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (make sysdeps)", allow_module_level=True)

READY = ".cj-status[data-state=ready]"
TIMINGS: dict[str, float] = {}
SECTION_KEYS = ("nuggets", "funnel", "followup", "channels", "process", "retention", "clv")


def prepare_run(workspace: Path, reports: Path, notebook: nbformat.NotebookNode | None = None,
                name: str = "20260101T000000Z") -> Path:
    """A batch-like run: reports/acme-motor/<run>/dashboard.ipynb baked by papermill for the
    client (parameters injected, as the batch does), and `latest` pointing at it."""
    import papermill

    folder = reports / "acme-motor"
    run = folder / name
    run.mkdir(parents=True)
    source = source_notebook()
    if notebook is not None:
        source = run / "source.ipynb"
        nbformat.write(notebook, source)
    # baked as a batch run bakes (static_charts=True): `cj serve` must still make it live
    papermill.execute_notebook(str(source), str(run / "dashboard.ipynb"),
                               parameters={"client": str(workspace), "static_charts": True},
                               prepare_only=True, progress_bar=False)
    latest = folder / "latest"
    if latest.is_symlink():
        latest.unlink()
    latest.symlink_to(run.name)
    return run / "dashboard.ipynb"


@pytest.fixture(scope="module", autouse=True)
def record_timings():
    """Write the measured timings (first render, each filter change) to test-artifacts/."""
    yield
    if TIMINGS:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dashboard-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


@pytest.fixture(scope="module")
def workspace(acme_built, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("browser") / "acme-motor"
    shutil.copytree(acme_built, target)
    return target


@pytest.fixture(scope="module")
def server(workspace):
    reports = workspace.parent / "reports"
    prepare_run(workspace, reports)
    started = time.perf_counter()
    served_server, served = start(str(workspace), port=free_port(), reports=reports,
                                  echo=lambda m: None)
    TIMINGS["voila_start_s"] = time.perf_counter() - started
    yield served_server, served
    served_server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page visit, recording every request and every console message."""

    def __init__(self, browser, url: str, keys: tuple[str, ...] = SECTION_KEYS) -> None:
        sections = len(keys)
        self.page = browser.new_page(viewport={"width": 1440, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        started = time.perf_counter()
        self.page.goto(url, timeout=180_000)
        self.page.wait_for_selector(".cj-client", timeout=180_000)
        self.page_shown_s = time.perf_counter() - started
        drawn = "document.querySelectorAll('.cj-section [data-section]{}').length >= {}"
        self.page.wait_for_function(  # every section but the findings scan is drawn
            drawn.format(":not([data-section=nuggets])", sections - ("nuggets" in keys)),
            timeout=120_000)
        self.fast_sections_s = time.perf_counter() - started
        self.page.wait_for_function(drawn.format("", sections), timeout=120_000)
        self.page.wait_for_selector(READY, timeout=120_000)
        self.first_render_s = time.perf_counter() - started

    def started_updates(self) -> int:
        return int(self.page.locator(".cj-status").get_attribute("data-requests"))

    def wait_update(self, before: int, *, slow: bool = True, timeout: float = 120_000) -> float:
        """Wait until the change made after `before` requests is drawn: every section, or
        (slow=False) every section but the findings scan, which takes seconds longer."""
        started = time.perf_counter()
        self.page.wait_for_function(
            """([before, wholePage]) => {
                 const s = document.querySelector('.cj-status');
                 if (!s || Number(s.dataset.requests) <= before) return false;
                 if (s.dataset.state === 'ready') return true;
                 const pending = s.dataset.pending ? s.dataset.pending.split(' ') : [];
                 return !wholePage && pending.every(k => k === 'nuggets');
               }""",
            arg=[before, slow], timeout=timeout)
        return time.perf_counter() - started

    def kpis(self) -> dict[str, float | None]:
        cards = self.page.locator(".cj-overview .cj-kpi")
        out = {}
        for i in range(cards.count()):
            raw = cards.nth(i).get_attribute("data-value")
            out[cards.nth(i).get_attribute("data-kpi")] = float(raw) if raw else None
        return out

    def section(self, key: str) -> dict[str, list[str]]:
        box = self.page.locator(f".cj-section-{key}")
        return {
            "headlines": box.locator(".cj-headline").all_inner_texts(),
            "empty": box.locator(".cj-empty").all_inner_texts(),
            "errors": box.locator(".cj-error").all_inner_texts(),
            "findings": box.locator(".cj-finding-text").all_inner_texts(),
        }


@pytest.fixture(scope="module")
def visit(server, browser):
    served_server, _ = server
    page_visit = Visit(browser, served_server.url)
    TIMINGS["first_render_page_shown_s"] = page_visit.page_shown_s
    TIMINGS["first_render_all_but_findings_s"] = page_visit.fast_sections_s
    TIMINGS["first_render_s"] = page_visit.first_render_s
    yield page_visit
    page_visit.page.close()


@pytest.fixture(scope="module")
def reference(workspace):
    journey = cjlib.open(str(workspace))
    events, customers = frames(journey)
    return journey, events, customers, choices(journey)


def expected_sections(journey, state: FilterState, keys) -> dict[str, sections.SectionView]:
    ctx = sections.context(journey, state)
    return {key: sections.compute(key, ctx) for key in keys}


FAST_KEYS = tuple(k for k in SECTION_KEYS if k != "nuggets")


def assert_page_shows(visit: Visit, reference, state: FilterState, keys=SECTION_KEYS) -> None:
    """The figures on the page are what cjlib and the pandas reference compute for `state`
    (the findings scan takes seconds to recompute here too, so some checks leave it out)."""
    journey, events, customers, _ = reference
    want = expected_overview(events, customers, start=state.start, end=state.end,
                             segment=state.segment, channel=state.channel,
                             source=state.source)
    got = visit.kpis()
    for key in ("customers", "with_case", "converted", "value"):
        assert got[key] == pytest.approx(want[key]), key
    views = expected_sections(journey, state, keys)
    for key in keys:
        shown, view = visit.section(key), views[key]
        if view.is_empty:
            assert shown["empty"] == [view.empty], key
        else:
            assert shown["headlines"] == view.headlines, key
            assert shown["findings"] == [f.headline for f in view.findings], key
        assert shown["errors"] == [], key


def check_funnel_against_cjlib(visit: Visit, reference, state: FilterState) -> None:
    """Where the funnel analysis is installed, its own headline for this filter is shown."""
    journey = reference[0]
    if not analyses.available("funnel"):
        return
    filtered = state.apply(journey)
    headline = filtered.funnel(list(state.steps), window=sections.FUNNEL_WINDOW).headline
    assert headline in visit.section("funnel")["headlines"]


# ---------------------------------------------------------------------- tests


def test_the_page_loads_with_findings_charts_and_filters(visit, reference):
    page = visit.page
    assert page.locator(".cj-client").inner_text() == "Acme Motor Insurance"
    for selector in (".cj-filter-start input", ".cj-filter-end input", ".cj-filter-segment select",
                     ".cj-filter-channel select", ".cj-filter-source select",
                     ".cj-funnel-steps", ".cj-bucket-width select", ".cj-section-nuggets"):
        assert page.locator(selector).first.is_visible(), selector
    page.wait_for_function("document.querySelectorAll('.vega-embed svg, .vega-embed canvas')"
                           ".length >= 3", timeout=60_000)
    _, _, _, found = reference
    state = FilterState(start=found.first_day, end=found.last_day, steps=found.default_steps())
    assert_page_shows(visit, reference, state)
    check_funnel_against_cjlib(visit, reference, state)
    assert page.locator(".cj-kpi[data-kpi=value] .cj-kpi-value").inner_text().startswith("£")


def test_every_filter_moves_the_figures_to_what_cjlib_computes(visit, reference, server):
    page = visit.page
    found = reference[3]
    state = FilterState(start=found.first_day, end=found.last_day, steps=found.default_steps())
    actions = [
        ("segment", lambda: page.select_option(".cj-filter-segment select", label="Family"),
         {"segment": "family"}, SECTION_KEYS),
        ("lead source", lambda: page.select_option(".cj-filter-source select",
                                                   label="Comparison site"),
         {"source": "comparison_site"}, FAST_KEYS),
        ("channel", lambda: page.select_option(".cj-filter-channel select", label="Phone"),
         {"channel": "phone"}, FAST_KEYS),
        ("reset", lambda: page.click(".cj-filter-reset"),
         {"segment": None, "source": None, "channel": None}, FAST_KEYS),
        ("start date", lambda: page.fill(".cj-filter-start input", "2025-01-01"),
         {"start": date(2025, 1, 1)}, FAST_KEYS),
        ("end date", lambda: page.fill(".cj-filter-end input", "2025-06-30"),
         {"end": date(2025, 6, 30)}, SECTION_KEYS),
    ]
    latencies = {}
    for name, act, changes, keys in actions:
        before = visit.started_updates()
        act()
        latencies[name] = visit.wait_update(before, slow=False)
        if "nuggets" in keys:
            latencies[f"{name}, with the findings scan"] = (
                latencies[name] + visit.wait_update(before))
        state = state.with_(**changes)
        assert_page_shows(visit, reference, state, keys)
    check_funnel_against_cjlib(visit, reference, state)

    visit.wait_update(visit.started_updates() - 1)  # the findings of the last change too
    before = visit.started_updates()  # funnel steps: remove the first tag
    page.locator(".cj-funnel-steps .jupyter-widget-tag-close").first.click()
    latencies["funnel steps"] = visit.wait_update(before)
    state = state.with_(steps=state.steps[1:])
    assert_page_shows(visit, reference, state, keys=("funnel",))
    check_funnel_against_cjlib(visit, reference, state)

    before = visit.started_updates()
    page.select_option(".cj-bucket-width select", label="30 minutes")
    latencies["latency bucket width"] = visit.wait_update(before)
    assert_page_shows(visit, reference, state.with_(bucket_minutes=30), keys=("followup",))
    TIMINGS.update({f"filter_change_s[{k}]": v for k, v in latencies.items()})
    log = (server[1].log_dir / "dashboard.log").read_text()  # the kernel's own account
    for n, wall, cpu in re.findall(r"update (\d+) .*?: ([\d.]+) s, kernel CPU ([\d.]+) s", log):
        TIMINGS[f"kernel_update_{n}_s"] = float(wall)
        TIMINGS[f"kernel_update_{n}_cpu_s"] = float(cpu)
    built = re.search(r"page built ([\d.]+) s after opening; kernel CPU ([\d.]+) s", log)
    TIMINGS["kernel_page_built_after_open_s"] = float(built.group(1))
    TIMINGS["kernel_cpu_at_first_render_s"] = float(built.group(2))


def test_a_screenshot_is_saved(visit):
    page = visit.page
    ARTIFACTS.mkdir(exist_ok=True)
    before = visit.started_updates()
    page.click(".cj-filter-reset")
    visit.wait_update(before)
    page.wait_for_timeout(1500)
    height = page.evaluate("Math.max(document.body.scrollHeight, ...Array.from("
                           "document.querySelectorAll('.lm-BoxPanel-child'), e => e.scrollHeight))")
    page.set_viewport_size({"width": 1440, "height": int(height) + 40})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 50_000


def test_no_console_error_and_no_request_leaves_localhost(visit):
    assert visit.errors == []
    outside = [u for u in visit.requests
               if urlsplit(u).scheme not in ("blob", "data")
               and urlsplit(u).hostname != "127.0.0.1"]
    assert outside == [] and len(visit.requests) > 10


def test_no_code_traceback_or_personal_data_in_the_page(visit, workspace):
    text = visit.page.inner_text("body")
    html = visit.page.content()
    for needle in ("Traceback", "open_dashboard", "import ", "d.show(", "cjlib"):
        assert needle not in text, needle
    assert not re.search(r"\b\w+(Error|Exception)\b", text)
    assert "open_dashboard(" not in html and "Traceback" not in html
    contacts = pd.read_csv(workspace / "raw" / "contacts.csv", dtype=str)
    emails = set(contacts["Email"].dropna().str.strip().str.lower())
    phones = {re.sub(r"\D", "", p)[-10:] for p in contacts["Mobile"].dropna()}
    assert len(emails) > 1000 and len(phones) > 1000
    page_text = html + text
    shown_emails = {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", page_text)}
    shown_digits = {re.sub(r"\D", "", d)[-10:]
                    for d in re.findall(r"\+?\d[\d ()-]{8,}\d", page_text)}
    assert not shown_emails & emails and not shown_digits & phones
    assert not re.search(r"[\w.+-]+@[\w-]+\.(?:com|net|org|co\.uk)\b", text)


def test_other_clients_data_and_files_outside_the_report_are_refused(server, browser, workspace):
    served_server, _ = server
    base = served_server.url.rstrip("/")
    paths = [
        "/voila/files/dashboard.ipynb",
        "/voila/files/../../../acme-motor/warehouse.duckdb",
        "/voila/files/%2e%2e/%2e%2e/%2e%2e/acme-motor/client.yml",
        "/voila/files/.serve/dashboard.log",
        "/voila/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/voila/templates/cjkit/static/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/voila/labextensions/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ]
    for path in paths:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        leaked = (b"root:" in body or b"DUCK" in body[:64] or b'"nbformat"' in body
                  or b"client: acme-motor" in body or b"Traceback" in body)
        assert status >= 400 and not leaked, path  # Voila answers some with a bare 500
    other = Visit(browser, base + "/?client=brightside-energy&workspace=../brightside-energy")
    try:
        assert other.page.locator(".cj-client").inner_text() == "Acme Motor Insurance"
        assert "Brightside" not in other.page.inner_text("body")
    finally:
        other.page.close()


SABOTAGE = """
from cjlib.widgets import sections as _sections
_channels = _sections.SECTIONS["channels"]
_sections.SECTIONS["channels"] = _sections.Section(
    "channels", _channels.title,
    lambda ctx: (1 / 0) if ctx.state.segment else _channels.compute(ctx))
"""


def test_a_failing_callback_shows_a_friendly_message_in_the_browser(browser, workspace):
    """A section whose analysis raises on a filter change (sabotaged in a separate served
    notebook) shows the friendly message; the traceback is only in the server-side log."""
    source = nbformat.read(source_notebook(), as_version=4)
    code = [c for c in source.cells if c.cell_type == "code"]
    nb = nbformat.v4.new_notebook(metadata=source.metadata)
    nb.cells = [*code[:2], *(nbformat.v4.new_code_cell(f'd.show("{k}")')
                             for k in ("channels", "clv")),
                nbformat.v4.new_code_cell(SABOTAGE)]
    reports = workspace.parent / "reports-sabotage"
    notebook = prepare_run(workspace, reports, nb)
    log = reports / "dashboard.log"
    options = ServeOptions(notebook=notebook, port=free_port(), log_file=log)
    with Server(options) as sabotaged:
        sabotaged.wait_ready()
        broken = Visit(browser, sabotaged.url, keys=("channels", "clv"))
        try:
            before = broken.started_updates()
            broken.page.select_option(".cj-filter-segment select", label="Family")
            broken.wait_update(before)
            shown = broken.section("channels")
            assert len(shown["errors"]) == 1 and "could not be updated" in shown["errors"][0]
            text = broken.page.inner_text("body")
            assert "ZeroDivisionError" not in text and "Traceback" not in text
            assert broken.section("clv")["errors"] == []
            assert broken.errors == []
        finally:
            broken.page.close()
    logged = log.read_text()
    assert "ZeroDivisionError" in logged and "Traceback" in logged

