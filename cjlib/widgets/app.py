"""The client dashboard: a header with filters and headline figures, then one widget per section.

    from cjlib.widgets import open_dashboard
    d = open_dashboard(client)          # the client comes from the notebook's parameters only
    d.show_header()
    d.show("funnel")

Live (Voila, JupyterLab): ipywidgets; every filter change re-queries the warehouse through the
sections' data-only functions on `Journey.where(...)`, and charts are `alt.JupyterChart`s updated
in place (`jc.chart = new_chart`; never large outputs inside an `ipywidgets.Output`, nbclient
issue #312). Static (batch HTML, `static_charts=True`): the same views as plain HTML and SVG.
Every callback is wrapped by `safe_callback`: errors are logged server-side and the page shows a
friendly message, never a traceback. The widgets themselves are in cjlib.widgets.panels.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cjlib.widgets import render
from cjlib.widgets.lean import offline_charts, skip_slow_imports
from cjlib.widgets.panels import Header, SectionPanel
from cjlib.widgets.pool import ViewPool
from cjlib.widgets.safe import configure_logging, log_error, report
from cjlib.widgets.sections import SECTIONS
from cjlib.widgets.state import DEFAULT_BUCKET, Choices, FilterState, choices
from cjlib.widgets.views import SectionView

if TYPE_CHECKING:
    from cjlib.journey import Journey

SERVE_ENV = "CJ_SERVE"
DEFAULT_PRIMARY = "#1f3a5f"
DEFAULT_ACCENT = "#e07a1f"
# Request details Voila hands the kernel: only the page's origin is read (to load the chart
# bundle from the same server, cjlib.widgets.lean); dropped once the dashboard is built.
REQUEST_ENV = ("QUERY_STRING", "PATH_INFO", "SCRIPT_NAME", "VOILA_REQUEST_URL")
# Sections computed last on a refresh (they take seconds; the others should not wait for them).
SLOW_SECTIONS = frozenset({"nuggets"})


def lock_down(journey: Journey) -> None:
    """After the data is loaded: no file or network access from SQL (DuckDB refuses to turn
    it back on while the database is open). It holds for every connection of this process to
    the same warehouse, which in a served kernel is only the dashboard's."""
    from cjlib.db import execute

    execute(journey.con, "SET enable_external_access = false")


def open_dashboard(
    client: Any,
    *,
    start: Any = None,
    end: Any = None,
    segment: str | None = None,
    channel: str | None = None,
    source: str | None = None,
    sales_steps: list[str] | None = None,
    bucket_minutes: int | None = None,
    case_event: str = "quote",
    conversion_event: str = "purchase",
    static_charts: bool = False,
) -> Dashboard:
    """Open `client` (workspace name/path, or a Journey) read-only and build its dashboard.

    The arguments are the notebook's parameters: the starting selection of the filters.
    Under `cj serve` the dashboard is always live, whatever `static_charts` says."""
    import cjlib
    from cjlib.journey import Journey

    opened = time.perf_counter()
    configure_logging().info("opening the dashboard; kernel CPU so far %.2f s (imports)",
                             time.process_time())
    journey = client if isinstance(client, Journey) else cjlib.open(str(client))
    found = choices(journey)
    if journey.workspace is not None:
        lock_down(journey)
    state = FilterState(
        start=_as_date(start) or found.first_day,
        end=_day_before(end) or found.last_day,
        segment=segment,
        channel=channel,
        source=source,
        steps=tuple(sales_steps) if sales_steps else found.default_steps(),
        bucket_minutes=int(bucket_minutes or DEFAULT_BUCKET),
        case_event=case_event,
        conversion_event=conversion_event,
    )
    live = (not static_charts) or os.environ.get(SERVE_ENV) == "1"
    dash = Dashboard(journey, state, found, live=live)
    for name in REQUEST_ENV:  # read once (the chart bundle's origin), then gone
        os.environ.pop(name, None)
    dash.opened = opened
    if live:
        dash.prefetch()  # every section starts computing while the page is being built
    return dash


class Dashboard:
    """The widgets of one client's dashboard and the logic that refreshes them.

    Refreshing never blocks the kernel: each section's view is computed by the pool and drawn
    when it arrives (on the kernel's main loop), so the filters stay responsive and a slow
    section (the findings scan) never holds the others back. A section drawn is always the one
    for the latest selection: late results of an earlier selection are dropped."""

    def __init__(self, journey: Journey, state: FilterState, found: Choices, *,
                 live: bool = True) -> None:
        skip_slow_imports()
        self.journey = journey
        self.state = state
        self.initial = state
        self.choices = found
        self.live = live
        self.generation = 0
        self.timings: list[float] = []
        self.opened = time.perf_counter()
        self._sections: dict[str, SectionPanel] = {}
        self._header: Header | None = None
        self.pool = ViewPool(journey)
        self._lock = threading.RLock()
        self._settled = threading.Condition(self._lock)
        self._pending: dict[str, Future[SectionView]] = {}
        self._round: dict[str, Any] = {}
        self._deferred: set[str] = set()
        self.requests = 0
        branding = journey.settings.branding or {}
        self.primary = branding.get("primary") or DEFAULT_PRIMARY
        self.accent = branding.get("accent") or DEFAULT_ACCENT
        self.logo = self._logo(branding.get("logo"))
        from cjlib.charts.theme import use_theme

        use_theme(self.primary, self.accent)
        if live:
            offline_charts()
        else:
            import altair as alt

            alt.renderers.enable("svg")

    # ------------------------------------------------------------------ data

    def view(self, key: str) -> SectionView:
        """The data-only view of one section for the current selection (blocks)."""
        return self.pool.request(key, self.state).result()

    # ------------------------------------------------------------------ refresh

    def prefetch(self) -> None:
        """Start computing every section for the current selection (slow ones last), before
        the page asks for them."""
        for key in sorted(SECTIONS, key=lambda k: k in SLOW_SECTIONS):
            self.pool.request(key, self.state)

    def set_state(self, state: FilterState, keys: list[str] | None = None) -> None:
        """Move to a new selection and refresh the sections it affects (default: the headline
        figures and every section on the page)."""
        self.state = state
        self.refresh(keys or ["overview", *self._sections])

    def refresh(self, keys: list[str]) -> None:
        """Start computing `keys` for the current selection; each is drawn when it arrives.
        Slow sections start once the others are drawn, so they have the cores to themselves
        meanwhile (a slow section still shows "Updating…" at once)."""
        keys = [k for k in keys if k in SECTIONS]
        slow = [k for k in keys if k in SLOW_SECTIONS]
        with self._lock:
            if not self._pending and not self._deferred:  # a new round of updates
                self._round = {"started": time.perf_counter(), "cpu": time.process_time(),
                               "arrived": []}
            if any(k not in SLOW_SECTIONS for k in [*keys, *self._pending]) and slow:
                self._deferred.update(slow)
                for key in slow:
                    stale = self._pending.pop(key, None)  # its result would be out of date
                    if stale is not None and not stale.running():
                        stale.cancel()
                    if key in self._sections:
                        self._sections[key].busy(True)
                keys = [k for k in keys if k not in SLOW_SECTIONS]
            self._submit(keys)

    def _submit(self, keys: list[str]) -> None:
        state = self.state
        with self._lock:
            self.requests += 1
            for key in keys:
                stale = self._pending.get(key)
                future = self.pool.request(key, state)
                if stale is not None and stale is not future and not stale.running():
                    stale.cancel()  # queued for a selection nobody looks at any more
                self._pending[key] = future
                if key in self._sections:
                    self._sections[key].busy(True)
            if self._header is not None:
                self._header.busy()
            for key in keys:
                future = self._pending[key]
                future.add_done_callback(
                    lambda f, k=key: _on_main_loop(lambda: self._arrived(k, f)))

    def _arrived(self, key: str, future: Future[SectionView]) -> None:
        """Draw a section whose view arrived, if it is still the one wanted."""
        with self._lock:
            if self._pending.get(key) is not future or future.cancelled():
                return
            del self._pending[key]
            try:
                if key == "overview" and self._header is not None:
                    self._header.show_overview(future)
                if key in self._sections:
                    self._sections[key].show(future)
                    self._sections[key].busy(False)
            except Exception as exc:  # drawing failed: say so politely, log the rest
                log_error(exc, f"drawing section {key}")
            self._round.setdefault("arrived", []).append(
                f"{key} {time.perf_counter() - self._round.get('started', 0):.2f}s")
            if self._deferred and all(k in SLOW_SECTIONS for k in self._pending):
                deferred, self._deferred = sorted(self._deferred), set()
                self._submit(deferred)
            if not self._pending:
                self._settle()
            elif self._header is not None:
                self._header.busy()

    def _settle(self) -> None:
        self.generation += 1
        wall = time.perf_counter() - self._round.get("started", time.perf_counter())
        self.timings.append(wall)
        if self._header is not None:
            self._header.ready(self.generation)
        configure_logging().info(
            "update %d (%s): %.2f s, kernel CPU %.2f s; %s", self.generation,
            self.state.describe(), wall, time.process_time() - self._round.get("cpu", 0.0),
            ", ".join(self._round.get("arrived", [])))
        self._settled.notify_all()

    def wait(self, timeout: float = 120) -> bool:
        """Block until every requested section is drawn (outside a kernel only: in a kernel
        sections are drawn by its main loop, which this would block)."""
        with self._settled:
            return self._settled.wait_for(lambda: not self._pending and not self._deferred,
                                          timeout)

    # ------------------------------------------------------------------ display

    def show_header(self) -> Any:
        """Display the style, the brand bar, the filters and the headline figures."""
        from IPython.display import HTML, display

        display(HTML(render.style_tag(self.primary, self.accent)))
        if not self.live:
            display(HTML(self._static_header()))
            return None
        with self._lock:
            self._header = Header(self)
            self.refresh(["overview"])
        display(self._header.box)
        return None

    def show(self, key: str) -> Any:
        """Display one section (see `SECTIONS`); it fills in as soon as its view arrives."""
        if key not in SECTIONS:
            raise KeyError(f"no dashboard section {key!r}; choose from {sorted(SECTIONS)}")
        from IPython.display import display

        if not self.live:
            self._show_static(key)
            return None
        with self._lock:
            widget = SectionPanel(self, key)
            self._sections[key] = widget
            widget.loading()
            self.refresh([key])
        display(widget.box)
        return None

    def show_footer(self) -> Any:
        """The small print; also logs how long building the page took."""
        from IPython.display import HTML, display

        configure_logging().info("page built %.2f s after opening; kernel CPU %.2f s in all",
                                 time.perf_counter() - self.opened, time.process_time())
        settings = self.journey.settings
        display(HTML(
            f"<div class='cj-footer'>Figures in {settings.currency}; gross margin "
            f"{settings.gross_margin:.0%}. Customers are counted from their first contact in "
            "the selected period. Prepared with cjkit.</div>"
        ))
        return None

    def _logo(self, logo: str | None) -> str | None:
        if not logo:
            return None
        path = Path(logo)
        if not path.is_absolute() and self.journey.workspace is not None:
            path = self.journey.workspace.root / path
        return render.logo_data_uri(path)

    def subtitle(self) -> str:
        return f"Customer journey review · {self.state.describe()}"

    # ------------------------------------------------------------------ static (batch) mode

    def _static_header(self) -> str:
        name = self.journey.settings.name
        view = self.view("overview")
        return (f"<div class='cj-header'>{render.brand_html(name, self.subtitle(), self.logo)}"
                f"{render.view_html(view)}</div>")

    def _show_static(self, key: str) -> None:
        from IPython.display import HTML, display

        try:
            view = self.view(key)
        except Exception as exc:
            display(HTML(render.error_html(key, report(exc, f"section {key}"))))
            return
        display(HTML(render.view_html(view)))
        for chart in view.charts:
            display(chart)


def _on_main_loop(fn: Any) -> None:
    """Run `fn` on the kernel's main loop (thread-safe; where filter callbacks run too), or
    right away outside a kernel."""
    loop = None
    try:
        from IPython import get_ipython

        loop = getattr(getattr(get_ipython(), "kernel", None), "io_loop", None)
    except ImportError:
        pass
    if loop is None:
        fn()
    else:
        loop.add_callback(fn)


def _day_before(value: Any) -> date | None:
    """Notebook parameters give `end` as the day after the period; the filter shows the last day."""
    day = _as_date(value)
    return None if day is None else day - timedelta(days=1)


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    import pandas as pd

    return pd.Timestamp(value).date()
