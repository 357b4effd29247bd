"""Journey: the analyst's handle on one client's events (DESIGN section 6).

A Journey wraps a DuckDB connection whose `events` and `customers` relations follow the canonical
model. `cjlib.open` opens a workspace's warehouse (read-only); `cjlib.from_events` builds the same
relations in memory from any event frame. `where(...)` returns a filtered Journey on its own cursor
whose temporary views shadow `events` and `customers`, so every analysis runs unchanged on the
filtered data. Every analysis method delegates to one module of `cjlib.analyses`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from cjlib.db import Params, connect, execute, quote_ident, scalar
from cjlib.db import query as run_query
from cjlib.errors import CjError

if TYPE_CHECKING:
    from cjlib.config import ClientConfig, Workspace
    from cjlib.result import Result

CANONICAL_COLUMNS: dict[str, str] = {
    "event_id": "BIGINT",
    "customer_id": "BIGINT",
    "ts": "TIMESTAMP",
    "event": "VARCHAR",
    "channel": "VARCHAR",
    "source": "VARCHAR",
    "case_id": "VARCHAR",
    "value": "DOUBLE",
    "cost": "DOUBLE",
    "duration_s": "DOUBLE",
    "outcome": "VARCHAR",
    "score": "DOUBLE",
    "attrs": "JSON",
    "phase": "VARCHAR",
    "feed": "VARCHAR",
    "kind": "VARCHAR",
    "source_file": "VARCHAR",
    "source_row": "BIGINT",
}


@dataclass(frozen=True)
class Settings:
    """What analyses need to know about the client (money, time, names)."""

    client: str = "adhoc"
    name: str = "Ad-hoc events"
    currency: str = "GBP"
    gross_margin: float = 1.0
    timezone: str = "UTC"
    branding: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: ClientConfig) -> Settings:
        return cls(
            client=config.client,
            name=config.name,
            currency=config.currency,
            gross_margin=config.gross_margin,
            timezone=config.timezone,
            branding=config.branding.model_dump(),
        )


@dataclass(frozen=True)
class Filters:
    """A slice of the data: date range, segment, channel, lead source (None = all)."""

    start: datetime | None = None
    end: datetime | None = None
    segment: tuple[str, ...] | None = None
    channel: tuple[str, ...] | None = None
    source: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


class Journey:
    """One client's customer journeys. Create with `cjlib.open` or `cjlib.from_events`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        *,
        workspace: Workspace | None = None,
        filters: Filters | None = None,
        database: str | None = None,
    ) -> None:
        self.con = con
        self.settings = settings
        self.workspace = workspace
        self.filters = filters or Filters()
        self._database = database or scalar(con, "SELECT current_database()")

    # ------------------------------------------------------------------ querying

    def sql(self, text: str, params: Params = None) -> pd.DataFrame:
        """Run any SQL against this journey's tables (the analyst's escape hatch)."""
        return run_query(self.con, text, params)

    def query(self, text: str, params: Params = None) -> pd.DataFrame:
        """The one way analyses run their SQL (bound parameters; see cjlib.db.query)."""
        return run_query(self.con, text, params)

    @property
    def currency(self) -> str:
        return self.settings.currency

    @property
    def gross_margin(self) -> float:
        return self.settings.gross_margin

    def data_end(self) -> datetime | None:
        """The last event time: the end of observation, for censoring."""
        return scalar(self.con, "SELECT max(ts) FROM events")

    # ------------------------------------------------------------------ filtering

    def where(
        self,
        *,
        start: str | date | datetime | None = None,
        end: str | date | datetime | None = None,
        segment: str | list[str] | None = None,
        channel: str | list[str] | None = None,
        source: str | list[str] | None = None,
    ) -> Journey:
        """A Journey restricted to customers first seen in [start, end) and to the given
        segments / acquisition sources; `channel` keeps only events of those channels."""
        filters = replace(
            self.filters,
            start=_as_datetime(start) if start is not None else self.filters.start,
            end=_as_datetime(end) if end is not None else self.filters.end,
            segment=_as_tuple(segment) if segment is not None else self.filters.segment,
            channel=_as_tuple(channel) if channel is not None else self.filters.channel,
            source=_as_tuple(source) if source is not None else self.filters.source,
        )
        cursor = self.con.cursor()
        _create_filtered_views(cursor, self._database, filters)
        return Journey(
            cursor,
            self.settings,
            workspace=self.workspace,
            filters=filters,
            database=self._database,
        )

    # ------------------------------------------------------------------ analyses
    # Each method is a thin delegation; the analysis lives in cjlib/analyses/<module>.py.

    def funnel(self, steps: list[Any], **kwargs: Any) -> Result:
        """Conversion through ordered steps (PostHog semantics by default)."""
        from cjlib.analyses.funnel import funnel

        return funnel(self, steps, **kwargs)

    def time_to_convert(self, steps: list[Any], **kwargs: Any) -> Result:
        """Time from entry to each step for converters, with a Kaplan-Meier curve."""
        from cjlib.analyses.time_to_convert import time_to_convert

        return time_to_convert(self, steps, **kwargs)

    def hotspots(self, steps: list[Any], **kwargs: Any) -> Result:
        """Where customers drop out of a funnel and what each drop-out costs."""
        from cjlib.analyses.hotspots import hotspots

        return hotspots(self, steps, **kwargs)

    def latency_effect(self, **kwargs: Any) -> Result:
        """How follow-up latency after a case opens changes its conversion."""
        from cjlib.analyses.latency import latency_effect

        return latency_effect(self, **kwargs)

    def followup_test(self, **kwargs: Any) -> Result:
        """Compare follow-up arms on conversion and on money after contact costs."""
        from cjlib.analyses.followup_test import followup_test

        return followup_test(self, **kwargs)

    def paths(self, **kwargs: Any) -> Result:
        """Channel switches and top sequences with their conversion."""
        from cjlib.analyses.paths import paths

        return paths(self, **kwargs)

    def transitions(self, **kwargs: Any) -> Result:
        """Transition matrix between events or channels."""
        from cjlib.analyses.paths import transitions

        return transitions(self, **kwargs)

    def process(self, **kwargs: Any) -> Result:
        """Per-case step durations, variants, rework and step failure rates."""
        from cjlib.analyses.process import process

        return process(self, **kwargs)

    def switch_effect(self, **kwargs: Any) -> Result:
        """Do customers who switch channel (e.g. web quote -> phone call) convert differently?"""
        from cjlib.analyses.paths import switch_effect

        return switch_effect(self, **kwargs)

    def step_failure(self, started: str, completed: str, **kwargs: Any) -> Result:
        """Failure rate of a process step (started but not completed), per attempt and customer."""
        from cjlib.analyses.process import step_failure

        return step_failure(self, started, completed, **kwargs)

    def dose_response(self, **kwargs: Any) -> Result:
        """Outcome rate by the duration between two steps (e.g. payout delay -> complaints)."""
        from cjlib.analyses.process import dose_response

        return dose_response(self, **kwargs)

    def touchpoints(self, **kwargs: Any) -> Result:
        """Volume, satisfaction and duration per touchpoint, ranked as pain points."""
        from cjlib.analyses.touchpoints import touchpoints

        return touchpoints(self, **kwargs)

    def retention(self, **kwargs: Any) -> Result:
        """Cohort retention."""
        from cjlib.analyses.retention import retention

        return retention(self, **kwargs)

    def lifecycle(self, **kwargs: Any) -> Result:
        """Lifecycle states (new, returning, resurrecting, dormant) per period."""
        from cjlib.analyses.retention import lifecycle

        return lifecycle(self, **kwargs)

    def phases(self, **kwargs: Any) -> Result:
        """Journey phases reached, dwell times and phase transitions."""
        from cjlib.analyses.retention import phases

        return phases(self, **kwargs)

    def clv(self, **kwargs: Any) -> Result:
        """Historic and predictive (BG/NBD + Gamma-Gamma) customer lifetime value."""
        from cjlib.analyses.clv import clv

        return clv(self, **kwargs)

    def attribution(self, **kwargs: Any) -> Result:
        """Rule-based and Markov attribution of conversions to channels / lead sources."""
        from cjlib.analyses.attribution import attribution

        return attribution(self, **kwargs)

    def segments(self, **kwargs: Any) -> Result:
        """RFM segments and behavioural personas."""
        from cjlib.analyses.segments import segments

        return segments(self, **kwargs)

    def nuggets(self, **kwargs: Any) -> Any:
        """Scan every analysis for findings, ranked by money at stake."""
        from cjlib.nuggets import scan

        return scan(self, **kwargs)

    def __repr__(self) -> str:
        n = scalar(self.con, "SELECT count(*) FROM events")
        return f"<Journey {self.settings.client}: {n:,} events>"


# ---------------------------------------------------------------------- constructors


def open_workspace(name_or_path: str | Path, *, read_only: bool = True) -> Journey:
    """Open a client's built warehouse (read-only by default)."""
    from cjlib.config import find_workspace

    ws: Workspace = find_workspace(name_or_path)
    if not ws.warehouse_path.exists():
        raise CjError(f"{ws.root}: no warehouse yet; build it with `cj ingest {ws.name}`")
    con = connect(ws.warehouse_path, read_only=read_only)
    return Journey(con, Settings.from_config(ws.config), workspace=ws)


def from_events(
    frame: pd.DataFrame,
    *,
    customer_id: str = "customer_id",
    ts: str = "ts",
    event: str = "event",
    currency: str = "GBP",
    gross_margin: float = 1.0,
    timezone: str = "UTC",
    **columns: str,
) -> Journey:
    """A Journey over any event frame. Name the frame's columns for the canonical fields
    (`customer_id`, `ts`, `event`, and optionally channel=, source=, case_id=, value=, cost=,
    duration_s=, outcome=, score=, segment=, region=). Timestamps are taken as UTC."""
    unknown = set(columns) - set(CANONICAL_COLUMNS) - {"segment", "region"}
    if unknown:
        raise CjError(f"from_events: unknown canonical field(s) {sorted(unknown)}")
    mapping = {"customer_id": customer_id, "ts": ts, "event": event, **columns}
    missing = [col for col in mapping.values() if col not in frame.columns]
    if missing:
        raise CjError(f"from_events: the frame has no column(s) {missing}")
    con = connect(None)
    con.register("_input_events", frame)
    select = []
    for name, sql_type in CANONICAL_COLUMNS.items():
        if name == "customer_id":
            select.append(f"dense_rank() OVER (ORDER BY {quote_ident(customer_id)}) AS customer_id")
        elif name in mapping:
            select.append(f"CAST({quote_ident(mapping[name])} AS {sql_type}) AS {name}")
        elif name == "event_id":
            continue
        else:
            select.append(f"CAST(NULL AS {sql_type}) AS {name}")
    extra = [
        f"CAST({quote_ident(mapping[k])} AS VARCHAR) AS {k}"
        for k in ("segment", "region")
        if k in mapping
    ]
    key = f"CAST({quote_ident(customer_id)} AS VARCHAR) AS customer_key"
    execute(
        con,
        f"CREATE TEMP TABLE _staged AS SELECT {', '.join(select + extra)}, {key} "
        "FROM _input_events",
    )
    con.unregister("_input_events")
    execute(
        con,
        "CREATE TABLE events AS SELECT row_number() OVER (ORDER BY customer_id, ts, event) "
        f"AS event_id, {', '.join(c for c in CANONICAL_COLUMNS if c != 'event_id')} "
        "FROM _staged ORDER BY customer_id, ts",
    )
    segment = "arg_max(segment, ts)" if "segment" in mapping else "NULL::VARCHAR"
    region = "arg_max(region, ts)" if "region" in mapping else "NULL::VARCHAR"
    execute(
        con,
        f"""
        CREATE TABLE customers AS
        SELECT customer_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS n_events,
               {segment} AS segment, {region} AS region,
               arg_min(source, ts) FILTER (WHERE source IS NOT NULL) AS source,
               arg_min(channel, ts) AS first_channel, any_value(customer_key) AS customer_key
        FROM _staged GROUP BY customer_id ORDER BY customer_id
        """,
    )
    execute(con, "DROP TABLE _staged")
    settings = Settings(currency=currency, gross_margin=gross_margin, timezone=timezone)
    return Journey(con, settings)


# ---------------------------------------------------------------------- helpers


def _create_filtered_views(
    cursor: duckdb.DuckDBPyConnection, database: str, filters: Filters
) -> None:
    base = f"{quote_ident(database)}.main"
    conditions, params = [], {}
    if filters.start is not None:
        conditions.append("first_seen >= $start")
        params["start"] = filters.start
    if filters.end is not None:
        conditions.append("first_seen < $end")
        params["end"] = filters.end
    if filters.segment is not None:
        conditions.append("list_contains($segment, segment)")
        params["segment"] = list(filters.segment)
    if filters.source is not None:
        conditions.append("list_contains($source, source)")
        params["source"] = list(filters.source)
    where = " AND ".join(conditions) or "true"
    # Views cannot hold parameters, so the selected customers are materialised once.
    execute(
        cursor,
        f"CREATE OR REPLACE TEMP TABLE customers AS SELECT * FROM {base}.customers WHERE {where}",
        params,
    )
    channel = ""
    if filters.channel is not None:
        execute(
            cursor,
            "CREATE OR REPLACE TEMP TABLE _channels AS SELECT unnest($c::VARCHAR[]) AS channel",
            {"c": list(filters.channel)},
        )
        channel = "AND e.channel IN (SELECT channel FROM temp.main._channels)"
    execute(
        cursor,
        f"CREATE OR REPLACE TEMP VIEW events AS SELECT e.* FROM {base}.events e "
        f"WHERE e.customer_id IN (SELECT customer_id FROM temp.main.customers) {channel}",
    )


def _as_datetime(value: str | date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return pd.Timestamp(value).to_pydatetime()


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
