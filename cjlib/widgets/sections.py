"""The dashboard's sections as data-only functions of (journey, filter selection).

Each section is registered in `SECTIONS` with its title, its function returning a `SectionView`
and what to say while its analysis is not installed yet (the titles and the words introducing
each section live in the notebook's markdown). Sections call the analyses through
`analyses.call`, check what data they need first (so an empty period reads "no follow-up data
in this period"), and query nothing themselves beyond two small SQL files (headline figures and
event counts): every number follows the filters because the journey handed in is filtered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from cjlib.db import load_sql
from cjlib.errors import CjError
from cjlib.widgets import format as fmt
from cjlib.widgets.analyses import NotAvailable, call
from cjlib.widgets.safe import log_error
from cjlib.widgets.sizing import presentable
from cjlib.widgets.state import SQL_PACKAGE, FilterState, pretty
from cjlib.widgets.views import Finding, Kpi, SectionView

if TYPE_CHECKING:
    from cjlib.journey import Journey

FUNNEL_WINDOW = "30d"
TOP_FINDINGS = 5
FOLLOWUP_EVENTS = ("followup_call", "followup_email", "followup_sms")
LATENCY_FINE_UNTIL = 120  # minutes: buckets of the chosen width up to here
LATENCY_TAIL = (240, 1440)  # then 4 hours and a day
RETENTION_PERIOD = "month"  # monthly cohorts read better on a projector than weekly ones
RETENTION_PERIODS = 12


@dataclass(frozen=True)
class Context:
    """What a section function gets: the filtered journey, the selection, event counts."""

    journey: Journey
    state: FilterState
    counts: dict[str, int]

    @property
    def currency(self) -> str:
        return self.journey.currency

    @property
    def margin(self) -> float:
        return self.journey.gross_margin

    def has(self, *events: str) -> bool:
        """Whether the slice holds at least one of these events."""
        return any(self.counts.get(e, 0) > 0 for e in events)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    compute: Callable[[Context], SectionView]
    unavailable: str = "This view is not available in this version of the dashboard yet."


def event_counts(journey: Journey) -> dict[str, int]:
    frame = journey.query(load_sql(SQL_PACKAGE, "event_counts"))
    return {str(e): int(n) for e, n in zip(frame["event"], frame["n"], strict=True)}


def context(journey: Journey, state: FilterState) -> Context:
    """The filtered journey for `state` and its event counts."""
    filtered = state.apply(journey)
    return Context(filtered, state, event_counts(filtered))


NOT_ENOUGH = "There is not enough data in this selection for this view."


def compute(key: str, ctx: Context) -> SectionView:
    """One section's view. An analysis not installed yet, or one that declines the selection
    (a CjError: too few cases to fit, nothing to compare), gives a friendly empty state; any
    other error propagates (the widget logs it and shows its friendly message)."""
    section = SECTIONS[key]
    try:
        return section.compute(ctx)
    except NotAvailable:
        return SectionView.nothing(key, section.unavailable)
    except CjError as exc:
        log_error(exc, f"section {key} declined {ctx.state.describe()}", level=logging.INFO)
        return SectionView.nothing(key, NOT_ENOUGH)


# --------------------------------------------------------------------------- helpers


def _headline(result: Any) -> str | None:
    text = getattr(result, "headline", None)
    return str(text) if text else None


def _chart(result: Any) -> Any:
    """The result's chart; a chart that fails is logged and left out (its words still show)."""
    if getattr(result, "chart_fn", None) is None:
        return None
    try:
        return presentable(result.chart())
    except Exception as exc:
        log_error(exc, f"chart of {getattr(result, 'name', 'a result')}")
        return None


def _has_rows(result: Any) -> bool:
    frame = getattr(result, "df", None)
    return not isinstance(frame, pd.DataFrame) or len(frame) > 0


def _view(key: str, results: list[Any], empty: str) -> SectionView:
    """A view made of analysis results: their headlines and charts, in order."""
    shown = [r for r in results if r is not None and _has_rows(r)]
    if not shown:
        return SectionView.nothing(key, empty)
    view = SectionView(key=key)
    for result in shown:
        headline = _headline(result)
        if headline:
            view.headlines.append(headline)
        chart = _chart(result)
        if chart is not None:
            view.charts.append(chart)
    return view


def _optional(fn: Callable[[], Any]) -> Any:
    """A supporting analysis: missing -> None (the section shows what it has)."""
    try:
        return fn()
    except NotAvailable:
        return None


# --------------------------------------------------------------------------- sections


def overview(ctx: Context) -> SectionView:
    """Headline figures: customers, with a case, converted, conversion, value and margin."""
    state = ctx.state
    row = ctx.journey.query(
        load_sql(SQL_PACKAGE, "overview"),
        {"case_event": state.case_event, "conversion_event": state.conversion_event},
    ).iloc[0]
    customers, with_case = int(row["customers"]), int(row["with_case"])
    converted, value = int(row["converted"]), float(row["conversion_value"])
    if customers == 0:
        return SectionView.nothing("overview", "No customers in this selection.")
    rate = int(row["converted_with_case"]) / with_case if with_case else None
    case, conv = pretty(state.case_event).lower(), pretty(state.conversion_event).lower()
    kpis = [
        Kpi("customers", "Customers", customers, fmt.count(customers)),
        Kpi("with_case", f"With a {case}", with_case, fmt.count(with_case)),
        Kpi("converted", f"With a {conv}", converted, fmt.count(converted)),
        Kpi("conversion", f"{pretty(state.case_event)} to {conv}", rate, fmt.share(rate)),
        Kpi("value", f"{pretty(state.conversion_event)} value", value,
            fmt.money(value, ctx.currency)),
        Kpi("margin", "Gross margin", value * ctx.margin, fmt.money(value * ctx.margin,
                                                                     ctx.currency),
            note=f"at {ctx.margin:.0%}"),
    ]
    return SectionView(key="overview", kpis=kpis)


def nuggets(ctx: Context) -> SectionView:
    """The ranked findings in plain words with the money at stake."""
    found = call(ctx.journey, "nuggets")
    findings = findings_from(found, ctx.currency)[:TOP_FINDINGS]
    if not findings:
        return SectionView.nothing(
            "nuggets", "No finding clears its evidence bar for this selection.")
    return SectionView(key="nuggets", findings=findings)


def funnel(ctx: Context) -> SectionView:
    """Conversion through the chosen steps, then where customers drop out and what it costs."""
    steps = list(ctx.state.steps)
    if len(steps) < 2:
        return SectionView.nothing("funnel", "Choose at least two steps to draw the funnel.")
    if not ctx.has(steps[0]):
        return SectionView.nothing("funnel", f"No {pretty(steps[0]).lower()} in this period.")
    window = {"window": [("window", FUNNEL_WINDOW)]}
    conversion = _optional(lambda: call(ctx.journey, "funnel", steps, options=window))
    hot = _optional(lambda: call(ctx.journey, "hotspots", steps, options=window))
    if conversion is None and hot is None:
        raise NotAvailable("funnel and hotspots")
    return _view("funnel", [conversion, hot], "No one entered this funnel in this period.")


def followup(ctx: Context) -> SectionView:
    """Conversion by how fast the first follow-up came, and the follow-up test if one ran."""
    state = ctx.state
    if not (ctx.has(state.case_event) and ctx.has(*FOLLOWUP_EVENTS)):
        return SectionView.nothing("followup", "No follow-up data in this period.")
    width = f"{state.bucket_minutes}min"
    bucket = {"bucket": [("buckets", latency_edges(state.bucket_minutes)), ("bucket", width),
                         ("bucket_width", width), ("bucket_minutes", state.bucket_minutes)]}
    latency = call(ctx.journey, "latency_effect", options=bucket)
    test = None
    if ctx.has("test_assigned"):
        test = _optional(lambda: call(ctx.journey, "followup_test"))
    return _view("followup", [latency, test], "No follow-up data in this period.")


def latency_edges(width: int, fine_until: int = LATENCY_FINE_UNTIL) -> list[float]:
    """Bucket edges in minutes: every `width` minutes up to `fine_until`, then 4 h and 1 day
    (the last bucket is open-ended)."""
    fine = list(range(0, fine_until + 1, width))
    return [float(m) for m in fine + [m for m in LATENCY_TAIL if m > fine[-1]]]


def channels(ctx: Context) -> SectionView:
    """Which channel paths customers take, and how they move between channels."""
    if not ctx.counts:
        return SectionView.nothing("channels", "No customer activity in this period.")
    paths = call(ctx.journey, "paths",
                 options={"conversion": [("conversion_event", ctx.state.conversion_event)]})
    moves = _optional(lambda: call(ctx.journey, "transitions",
                                   options={"level": [("level", "channel")]}))
    return _view("channels", [paths, moves], "No channel journeys in this period.")


def process(ctx: Context) -> SectionView:
    """Pain points: the touchpoints that hurt most, and the slow or repeated process steps."""
    if not ctx.counts:
        return SectionView.nothing("process", "No process data in this period.")
    pains = _optional(lambda: call(ctx.journey, "touchpoints"))
    steps = _optional(lambda: call(ctx.journey, "process"))
    if pains is None and steps is None:
        raise NotAvailable("touchpoints and process")
    return _view("process", [pains, steps], "No process data in this period.")


def retention(ctx: Context) -> SectionView:
    """How many customers buy again, cohort by month of first purchase (outbound contacts such
    as a mailing to everyone are not a customer coming back)."""
    event = ctx.state.conversion_event
    if not ctx.has(event):
        return SectionView.nothing("retention", f"No {pretty(event).lower()} in this period.")
    cohorts = call(ctx.journey, "retention", options={
        "start": [("start_event", event)], "return": [("return_event", event)],
        "period": [("period", RETENTION_PERIOD)], "periods": [("max_periods", RETENTION_PERIODS)]})
    return _view("retention", [cohorts], "No repeat purchases in this period.")


def clv(ctx: Context) -> SectionView:
    """What customers have spent and are expected to spend."""
    event = ctx.state.conversion_event
    if not ctx.has(event):
        return SectionView.nothing("clv", f"No {pretty(event).lower()} in this period.")
    value = call(ctx.journey, "clv", options={"event": [("purchase_event", event)]})
    return _view("clv", [value], f"No {pretty(event).lower()} in this period.")


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("overview", "Headline figures", overview),
        Section("nuggets", "Findings", nuggets,
                "The ranked findings are not available in this version of the dashboard yet."),
        Section("funnel", "Funnel", funnel,
                "The funnel is not available in this version of the dashboard yet."),
        Section("followup", "Follow-up speed", followup,
                "The follow-up analysis is not available in this version of the dashboard yet."),
        Section("channels", "Channel journeys", channels),
        Section("process", "Process pain points", process),
        Section("retention", "Retention", retention),
        Section("clv", "Lifetime value", clv),
    )
}


# --------------------------------------------------------------------------- nuggets


HEADLINE_KEYS = ("headline", "title", "finding", "text")
MONEY_KEYS = ("money", "money_at_stake", "value_at_stake", "at_stake", "impact", "amount")
LOW_KEYS = ("money_low", "low", "lower", "money_lo", "ci_low")
HIGH_KEYS = ("money_high", "high", "upper", "money_hi", "ci_high")


def _records(found: Any) -> list[dict[str, Any]]:
    if found is None:
        return []
    frame = found if isinstance(found, pd.DataFrame) else getattr(found, "df", None)
    if isinstance(frame, pd.DataFrame):
        return frame.to_dict("records")
    if isinstance(found, dict):
        return [found]
    records = []
    for item in found:
        if isinstance(item, dict):
            records.append(item)
        elif hasattr(item, "_asdict"):
            records.append(item._asdict())
        else:
            names = [n for n in dir(item) if not n.startswith("_")]
            records.append({n: getattr(item, n) for n in names
                            if n in HEADLINE_KEYS + MONEY_KEYS + LOW_KEYS + HIGH_KEYS})
    return records


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value is not None and not (isinstance(value, float) and pd.isna(value)):
            return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def findings_from(found: Any, currency: str) -> list[Finding]:
    """Whatever `Journey.nuggets()` returns (a Result, a DataFrame, or nugget objects) as
    ranked findings in the scan's order."""
    out = []
    for record in _records(found):
        headline = _first(record, HEADLINE_KEYS)
        if headline is None:
            continue
        raw_money = _first(record, MONEY_KEYS)
        money = _number(raw_money)
        low, high = _number(_first(record, LOW_KEYS)), _number(_first(record, HIGH_KEYS))
        if isinstance(raw_money, tuple | list) and len(raw_money) == 3:
            low, high = _number(raw_money[1]), _number(raw_money[2])
        text = "" if money is None else f"{fmt.money_short(money, currency)} at stake"
        if money is not None and low is not None and high is not None:
            text += f" ({fmt.money_short(low, currency)} to {fmt.money_short(high, currency)})"
        out.append(Finding(len(out) + 1, str(headline), money, text, low, high))
    return out
