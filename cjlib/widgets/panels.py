"""The dashboard's widgets: the header (brand, status, filters, headline figures) and one panel
per section (its controls, words and numbers, and charts). `cjlib.widgets.app.Dashboard` owns
them and decides what they show; every callback here is wrapped by `safe_callback`."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from cjlib.widgets import render
from cjlib.widgets.safe import log_error, report, safe_callback
from cjlib.widgets.state import BUCKET_MINUTES, FilterState, pretty
from cjlib.widgets.views import SectionView

if TYPE_CHECKING:
    from cjlib.widgets.app import Dashboard


class Header:
    """Brand bar with the status pill, the filter bar and the headline figures."""

    def __init__(self, dash: Dashboard) -> None:
        import ipywidgets as w

        self.dash = dash
        self._quiet = False
        found, state = dash.choices, dash.state
        name = dash.journey.settings.name
        self.brand = w.HTML(render.brand_html(name, dash.subtitle(), dash.logo))
        self.status = w.HTML(render.status_html("busy", 0, "Loading…"))
        topline = w.HBox([self.brand, self.status])
        topline.add_class("cj-topline")
        label = {"style": {"description_width": "initial"}}
        self.start = w.DatePicker(value=state.start, description="First seen from",
                                  min=found.first_day, max=found.last_day,
                                  tooltip="Customers first seen on or after this day", **label)
        self.end = w.DatePicker(value=state.end, description="to", min=found.first_day,
                                max=found.last_day,
                                tooltip="Customers first seen on or before this day", **label)
        self.segment = w.Dropdown(options=_options("All segments", found.segment),
                                  value=state.segment or "", description="Segment",
                                  tooltip="Customer segment", **label)
        self.channel = w.Dropdown(options=_options("All channels", found.channel),
                                  value=state.channel or "", description="Channel",
                                  tooltip="Only activity in this channel", **label)
        self.source = w.Dropdown(options=_options("All lead sources", found.source),
                                 value=state.source or "", description="Lead source",
                                 tooltip="Where the customer came from", **label)
        self.reset = w.Button(description="Reset", tooltip="Back to the whole period, everyone",
                              layout=w.Layout(width="90px"))
        for widget, key in ((self.start, "start"), (self.end, "end"), (self.segment, "segment"),
                            (self.channel, "channel"), (self.source, "source")):
            widget.add_class(f"cj-filter-{key}")
        self.reset.add_class("cj-filter-reset")
        filters = w.HBox([self.start, self.end, self.segment, self.channel, self.source,
                          self.reset])
        filters.add_class("cj-filters")
        self.overview = w.HTML(render.loading_html("overview"))
        self.overview.add_class("cj-overview")
        self.box = w.VBox([topline, filters, self.overview])
        self.box.add_class("cj-header")

        on_error = self.failed
        changed = safe_callback(on_error, "filters")(self.changed)
        for widget in (self.start, self.end, self.segment, self.channel, self.source):
            widget.observe(changed, names="value")
        self.reset.on_click(safe_callback(on_error, "reset")(self.on_reset))

    def selection(self) -> FilterState:
        return self.dash.state.with_(
            start=self.start.value, end=self.end.value, segment=self.segment.value or None,
            channel=self.channel.value or None, source=self.source.value or None,
        )

    def changed(self, _change: Any = None) -> None:
        if self._quiet:
            return
        state = self.selection()
        if state != self.dash.state:
            self.dash.set_state(state)

    def on_reset(self, _button: Any = None) -> None:
        initial = self.dash.initial
        self._quiet = True
        try:
            self.start.value, self.end.value = initial.start, initial.end
            self.segment.value = initial.segment or ""
            self.channel.value = initial.channel or ""
            self.source.value = initial.source or ""
        finally:
            self._quiet = False
        self.changed()

    def show_overview(self, future: Future[SectionView]) -> None:
        try:
            self.overview.value = render.view_html(future.result())
        except Exception as exc:
            self.overview.value = render.error_html("overview", report(exc, "overview"))

    def busy(self) -> None:
        dash = self.dash
        self.status.value = render.status_html("busy", dash.generation, "Updating…",
                                               tuple(dash._pending), dash.requests)

    def ready(self, generation: int) -> None:
        self.brand.value = render.brand_html(
            self.dash.journey.settings.name, self.dash.subtitle(), self.dash.logo)
        self.status.value = render.status_html("ready", generation, "Up to date",
                                               requests=self.dash.requests)

    def failed(self, message: str) -> None:
        self.status.value = render.status_html("error", self.dash.generation,
                                               "Some figures could not be updated",
                                               requests=self.dash.requests)
        self.overview.value = render.error_html("filters", message)


class SectionPanel:
    """One section: optional controls, its words and numbers, and its charts."""

    def __init__(self, dash: Dashboard, key: str) -> None:
        import ipywidgets as w

        self.dash = dash
        self.key = key
        self.body = w.HTML("")
        self.charts = w.HBox([])
        self.charts.add_class("cj-charts")
        self._chart_widgets: list[Any] = []
        controls = self._controls()
        children = ([controls] if controls is not None else []) + [self.body, self.charts]
        self.box = w.VBox(children)
        self.box.add_class("cj-section")
        self.box.add_class(f"cj-section-{key}")

    def _controls(self) -> Any:
        import ipywidgets as w

        state = self.dash.state
        label = {"style": {"description_width": "initial"}}
        if self.key == "funnel":
            steps = w.TagsInput(value=list(state.steps),
                                allowed_tags=list(self.dash.choices.events),
                                allow_duplicates=False)
            steps.add_class("cj-funnel-steps")
            caption = w.Label("Funnel steps, in order:")
            steps.observe(safe_callback(self.failed, "funnel steps")(self.on_steps),
                          names="value")
            row = w.HBox([caption, steps])
        elif self.key == "followup":
            bucket = w.Dropdown(options=[(f"{m} minutes", m) for m in BUCKET_MINUTES],
                                value=state.bucket_minutes, description="Latency bucket width",
                                tooltip="Group quotes by the wait for the first follow-up",
                                **label)
            bucket.add_class("cj-bucket-width")
            bucket.observe(safe_callback(self.failed, "bucket width")(self.on_bucket),
                           names="value")
            row = w.HBox([bucket])
        else:
            return None
        row.add_class("cj-controls")
        return row

    def on_steps(self, change: Any) -> None:
        self.dash.set_state(self.dash.state.with_(steps=tuple(change["new"])), keys=[self.key])

    def on_bucket(self, change: Any) -> None:
        self.dash.set_state(self.dash.state.with_(bucket_minutes=int(change["new"])),
                            keys=[self.key])

    def busy(self, on: bool) -> None:
        if on:
            self.box.add_class("cj-busy")
        else:
            self.box.remove_class("cj-busy")

    def failed(self, message: str) -> None:
        self.body.value = render.error_html(self.key, message)
        self._set_charts([])

    def loading(self) -> None:
        """The section while its first view is computed."""
        self.body.value = render.loading_html(self.key)
        self.busy(True)

    def show(self, future: Future[SectionView]) -> None:
        """Show a computed view (errors: friendly message on the page, details logged)."""
        try:
            view = future.result()
        except Exception as exc:
            self.failed(report(exc, f"section {self.key}"))
            return
        self.body.value = render.view_html(view)
        try:
            self._set_charts(view.charts)
        except Exception as exc:  # a chart the browser cannot be given: keep the words
            log_error(exc, f"charts of section {self.key}")
            self._set_charts([])

    def _set_charts(self, charts: list[Any]) -> None:
        import altair as alt

        while len(self._chart_widgets) < len(charts):
            jc = alt.JupyterChart(charts[len(self._chart_widgets)],
                                  embed_options={"actions": False})
            self._chart_widgets.append(jc)
        for i, jc in enumerate(self._chart_widgets):
            if i < len(charts):
                if jc.chart is not charts[i]:
                    jc.chart = charts[i]
                jc.layout.display = None
            else:
                jc.layout.display = "none"
        if list(self.charts.children) != self._chart_widgets:
            self.charts.children = tuple(self._chart_widgets)
        self.charts.layout.display = None if charts else "none"


def _options(everything: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(everything, "")] + [(pretty(v), v) for v in values]
