"""What the scan can ask of this client, read from its data and mapping (never from a list of
sample event names).

- conversion event: the most frequent event of kind `orders` (else of phase `purchase`);
- case events: events that open a case (a case_id on nearly every row, about one row per case)
  whose cases carry later events of another kind, not themselves contacts (kinds calls/email,
  or channels phone/email/sms when kinds are missing), e.g. a quote or a complaint;
- follow-ups of a case event: contacts carrying its case_id that mostly come after it;
- test assignments: events holding an arm in an attrs key such as `arm` or `variant`;
- step pairs: event names sharing a stem with a start-like and an end-like suffix
  (`x_started`/`x_completed`, `x_requested`/`x_paid`, `x_start`/`x`); duration pairs: step pairs
  whose events both carry case_ids;
- bad outcomes: case-opening events of kind `complaints`;
- breakdowns of a case event: its source and channel, low-cardinality attrs keys, and the
  customers' segment and region;
- the phase-ordered funnel: once-per-customer steps around the main case event in phases up to
  the conversion's, ordered by their typical time from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cjlib.db import load_sql
from cjlib.db import quote_ident as _quote

SQL_PACKAGE = "cjlib.nuggets.sql"
FOLLOWUP_KINDS = ("calls", "email", "sms")
CONTACT_CHANNELS = ("phone", "email", "sms")
CONVERSION_KINDS = ("orders",)
COMPLAINT_KINDS = ("complaints",)
ARM_KEYS = ("arm", "variant", "test_arm", "treatment", "test_group", "test_cell")
START_SUFFIXES = ("started", "start", "begin", "begun", "opened", "open", "requested",
                  "request", "initiated", "submitted")
END_SUFFIXES = ("completed", "complete", "finished", "finish", "done", "closed", "resolved",
                "paid", "approved", "succeeded", "success", "ended", "confirmed", "accepted")
PHASE_ORDER = ("awareness", "consideration", "purchase", "retention", "advocacy")
MIN_EVENTS = 30  # an event rarer than this is not worth a candidate
MAX_LEVELS = 12  # a breakdown with more values than this is an identifier, not a property


def sql(name: str, **identifiers: str) -> str:
    """A catalogue query of cjlib/nuggets/sql/ with `{{ident}}` placeholders quoted and filled."""
    text = load_sql(SQL_PACKAGE, name)
    for key, value in identifiers.items():
        text = text.replace("{{" + key + "}}", _quote(value))
    return text


@dataclass
class Catalogue:
    """The client's structure as the scan sees it (see the module docstring)."""

    events: pd.DataFrame
    links: pd.DataFrame
    attrs: pd.DataFrame
    channels: pd.DataFrame
    conversion: str | None = None
    case_events: list[str] = field(default_factory=list)
    followups: dict[str, list[str]] = field(default_factory=dict)
    arms: list[tuple[str, list[str]]] = field(default_factory=list)
    step_pairs: list[tuple[str, str]] = field(default_factory=list)
    duration_pairs: list[tuple[str, str]] = field(default_factory=list)
    bad_outcomes: list[str] = field(default_factory=list)
    breakdowns: dict[str, list[str]] = field(default_factory=dict)
    customer_breakdowns: list[str] = field(default_factory=list)

    @property
    def main_case(self) -> str | None:
        return self.case_events[0] if self.case_events else None

    def has(self, event: str) -> bool:
        return event in self.events.index

    def info(self, event: str) -> pd.Series:
        return self.events.loc[event]

    def years(self, event: str) -> float:
        """The span of an event's occurrences in years (at least one day): what annualises."""
        row = self.events.loc[event]
        days = (pd.Timestamp(row.last_ts) - pd.Timestamp(row.first_ts)).total_seconds() / 86400
        return max(days, 1.0) / 365.25

    def is_contact(self, event: str) -> bool:
        row = self.events.loc[event]
        if isinstance(row.kind, str):
            return row.kind in FOLLOWUP_KINDS
        return isinstance(row.channel, str) and row.channel in CONTACT_CHANNELS

    def is_assignment(self, event: str) -> bool:
        return any(event in events for _, events in self.arms)

    def describe(self) -> dict[str, Any]:
        return {
            "conversion_event": self.conversion, "case_events": self.case_events,
            "followups": self.followups, "test_arms": self.arms, "step_pairs": self.step_pairs,
            "duration_pairs": self.duration_pairs, "bad_outcomes": self.bad_outcomes,
            "breakdowns": self.breakdowns, "customer_breakdowns": self.customer_breakdowns,
        }


def build(journey: Any, conversion_event: str | None = None,
          case_events: list[str] | None = None) -> Catalogue:
    """Read the client's structure (five small aggregate queries)."""
    events = journey.query(sql("catalogue_events")).set_index("event")
    links = journey.query(sql("catalogue_case_links"))
    attrs = journey.query(sql("catalogue_attrs"))
    channels = journey.query(sql("catalogue_channels"))
    cat = Catalogue(events, links, attrs, channels)
    cat.conversion = conversion_event or _conversion(events)
    cat.arms = _arms(attrs, events)
    cat.case_events = list(case_events) if case_events else _case_events(cat)
    cat.followups = {c: _followups(cat, c) for c in cat.case_events}
    cat.step_pairs = _step_pairs(events)
    cat.duration_pairs = [(a, b) for a, b in cat.step_pairs if _carries_case(events, a)
                          and _carries_case(events, b)]
    cat.bad_outcomes = _bad_outcomes(cat)
    cat.breakdowns = {c: _breakdowns(cat, c) for c in cat.case_events}
    cat.customer_breakdowns = _customer_breakdowns(journey)
    return cat


# ------------------------------------------------------------------------------------ rules


def _conversion(events: pd.DataFrame) -> str | None:
    big = events[events.n >= MIN_EVENTS]
    for column, values in (("kind", CONVERSION_KINDS), ("phase", ("purchase",))):
        hits = big[big[column].isin(values)]
        if len(hits):
            return str(hits.n.idxmax())
    return None


def _arms(attrs: pd.DataFrame, events: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """attrs keys holding test arms, with the events that assign them (the key is set on nearly
    every one of their rows)."""
    out: dict[str, list[str]] = {}
    rows = attrs[attrs.key.str.lower().isin(ARM_KEYS) & attrs.n_values.between(2, 6)]
    for row in rows.itertuples():
        if row.with_value >= 0.9 * row.n and events.loc[row.event, "n"] >= MIN_EVENTS:
            out.setdefault(str(row.key), []).append(str(row.event))
    return sorted(out.items())


def _carries_case(events: pd.DataFrame, event: str) -> bool:
    row = events.loc[event]
    return bool(row.with_case >= 0.9 * row.n)


def _case_events(cat: Catalogue) -> list[str]:
    ev = cat.events
    found = []
    for event, row in ev.iterrows():
        if (row.n < MIN_EVENTS or event == cat.conversion or cat.is_contact(event)
                or cat.is_assignment(event) or not _carries_case(ev, event)
                or row.with_case > 1.2 * row.cases):
            continue
        linked = cat.links[cat.links.case_event == event]
        other_kind = [
            r for r in linked.itertuples()
            if r.cases >= MIN_EVENTS and r.later >= 0.5 * r.cases
            and _other_kind(ev.loc[r.linked_event, "kind"], row.kind)
            and not cat.is_assignment(r.linked_event)
        ]
        if other_kind:
            found.append((int(row.cases), str(event)))
    return [e for _, e in sorted(found, key=lambda t: (-t[0], t[1]))]


def _other_kind(a: Any, b: Any) -> bool:
    """Different kinds, or kinds unknown (an ad-hoc event frame without a mapping)."""
    return not (isinstance(a, str) and isinstance(b, str)) or a != b


def _followups(cat: Catalogue, case_event: str) -> list[str]:
    linked = cat.links[cat.links.case_event == case_event]
    out = [str(r.linked_event) for r in linked.itertuples()
           if r.cases >= MIN_EVENTS and r.later >= 0.5 * r.cases
           and cat.is_contact(r.linked_event) and not cat.is_assignment(r.linked_event)
           and r.linked_event != cat.conversion]
    return sorted(out)


def _split(event: str) -> tuple[str, str]:
    stem, _, suffix = event.rpartition("_")
    return (stem, suffix.lower()) if stem else (event, "")


def _step_pairs(events: pd.DataFrame) -> list[tuple[str, str]]:
    names = [str(e) for e in events.index if events.loc[e, "n"] >= MIN_EVENTS]
    starts: dict[str, list[str]] = {}
    ends: dict[str, list[str]] = {}
    for name in names:
        stem, suffix = _split(name)
        if suffix in START_SUFFIXES:
            starts.setdefault(stem, []).append(name)
        elif suffix in END_SUFFIXES:
            ends.setdefault(stem, []).append(name)
    pairs = []
    for stem, started in starts.items():
        finished = ends.get(stem, []) + ([stem] if stem in names else [])
        pairs += [(s, f) for s in started for f in finished]
    return sorted(pairs)


def _bad_outcomes(cat: Catalogue) -> list[str]:
    """Case-opening events of a complaints kind (a complaint opened, not resolved)."""
    ev = cat.events
    out = []
    for event, row in ev.iterrows():
        if row.kind not in COMPLAINT_KINDS or row.n < MIN_EVENTS:
            continue
        if _split(str(event))[1] in END_SUFFIXES:
            continue
        out.append(str(event))
    return sorted(out)


def _breakdowns(cat: Catalogue, case_event: str) -> list[str]:
    """Event properties of a case event with a few values: source, channel, attrs keys."""
    row = cat.events.loc[case_event]
    out = []
    per_channel = cat.channels[cat.channels.event == case_event]
    if row.with_source >= 0.5 * row.n:
        out.append("source")
    if 2 <= len(per_channel) <= MAX_LEVELS:
        out.append("channel")
    keys = cat.attrs[(cat.attrs.event == case_event) & cat.attrs.n_values.between(2, MAX_LEVELS)
                     & (cat.attrs.with_value >= 0.5 * cat.attrs.n)
                     & ~cat.attrs.key.str.lower().isin(ARM_KEYS)]
    out += [f"attrs.{k}" for k in sorted(keys.key)]
    return out


def _customer_breakdowns(journey: Any) -> list[str]:
    from cjlib.analyses.conversion_common import customer_columns

    columns = customer_columns(journey)
    out = []
    for col in ("segment", "region"):
        if col not in columns:
            continue
        row = journey.query(sql("catalogue_customer_column", col=col)).iloc[0]
        if row.with_value >= 0.5 * row.customers and 2 <= row.n_values <= MAX_LEVELS:
            out.append(col)
    return out


def phase_funnel(cat: Catalogue, journey: Any) -> list[str]:
    """Once-per-customer steps around the main case event (not contacts, surveys or customer
    records, not in a phase after the conversion's and not typically after it), in the order
    customers typically do them (median time from the case event), ending at the conversion."""
    case, conv = cat.main_case, cat.conversion
    if case is None or conv is None:
        return []
    offsets = journey.query(sql("catalogue_offsets"), {"case_event": case}).set_index("event")
    ev = cat.events
    conv_phase = _phase_rank(ev.loc[conv, "phase"])
    conv_offset = offsets.offset_s.get(conv, math.inf)
    steps = []
    for event, row in offsets.iterrows():
        info = ev.loc[event]
        if (event == conv or info.per_customer > 1.5 or info.customers < MIN_EVENTS
                or cat.is_contact(event) or cat.is_assignment(event)
                or info.kind in ("contacts", "surveys") or row.customers < 0.05 * info.customers
                or _phase_rank(info.phase) > conv_phase or math.isnan(row.offset_s)
                or row.offset_s > conv_offset):
            continue
        steps.append((float(row.offset_s), str(event)))
    ordered = [e for _, e in sorted(steps)]
    return [*ordered, conv] if ordered else []


def _phase_rank(phase: Any) -> int:
    return PHASE_ORDER.index(phase) if phase in PHASE_ORDER else len(PHASE_ORDER)
