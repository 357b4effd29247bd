"""Data health: what was received, what was set aside and why, what period each feed covers, and
how well the feeds were tied together.

Unlike the journey analyses these functions also read the ingest tables a warehouse keeps
(`ingest_log`, `rejects`, `stitching`); `coverage`, `feeds` and `values` read only `events`, so
they also run on `cjlib.from_events` and on filtered journeys. Reject examples are masked twice:
by the ingest, and again in the query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

INGEST_TABLES = ("ingest_log", "rejects", "stitching")
CANONICAL_VALUE_COLUMNS = ("event", "channel", "source", "case_id", "outcome", "phase", "kind")
GRAINS = ("day", "week", "month", "quarter", "year")

#: Reject codes in words a client director understands.
PROBLEMS: dict[str, str] = {
    "bad_timestamp": "date/time not readable",
    "future_timestamp": "date in the future",
    "ancient_timestamp": "date before 1970 (a placeholder?)",
    "missing_timestamp": "no date/time",
    "missing_value": "a required value is missing",
    "malformed_line": "line broken in the file",
    "no_identifier": "no email, phone or customer number",
    "bad_phone": "phone number not valid",
    "bad_email": "email address not valid",
    "bad_money": "amount not readable",
    "negative_money": "negative amount",
    "bad_number": "number not readable",
    "bad_duration": "duration not readable",
    "bad_bool": "yes/no value not readable",
    "formula": "spreadsheet formula in a text field",
    "unmapped_value": "value not in the agreed list",
    "bad_value": "value not readable",
}


def _require_warehouse(journey: Journey, what: str) -> None:
    found = journey.query(render("health_tables"), {"names": list(INGEST_TABLES)})
    if int(found["n"].iloc[0]) < len(INGEST_TABLES):
        raise CjError(
            f"health.{what} needs a warehouse built by `cj ingest` (it reads the ingest log); "
            "this journey has events only"
        )


def _period(first: Any, last: Any) -> str:
    if first is None or pd.isna(first):
        return "no dates"
    return f"{pd.Timestamp(first):%d %b %Y} to {pd.Timestamp(last):%d %b %Y}"


def _pct(share: float) -> str:
    if share is None or pd.isna(share):
        return "n/a"
    return f"{share:.1%}" if share < 0.995 or share == 1 else f"{share:.2%}"


# ---------------------------------------------------------------------------- overview


def overview(journey: Journey) -> Result:
    """One row: feeds, files, rows read/accepted/rejected/duplicates, events, customers, period."""
    _require_warehouse(journey, "overview")
    sql = render("health_overview")
    df = journey.query(sql)
    row = df.iloc[0]
    headline = (
        f"We received {int(row.files)} files from {int(row.feeds)} systems with "
        f"{int(row.rows_read):,} rows; {_pct(row.accepted_share)} were usable, giving "
        f"{int(row.events):,} events for {int(row.customers):,} customers "
        f"({_period(row.first_ts, row.last_ts)})."
    )
    if int(row.files_not_reconciling):
        headline += f" {int(row.files_not_reconciling)} file(s) do not reconcile."
    return Result("health.overview", df, sql, {}, headline)


# ---------------------------------------------------------------------------- files


def files(journey: Journey) -> Result:
    """Per file received: rows read = accepted + rejected + duplicates, events, time span."""
    _require_warehouse(journey, "files")
    sql = render("health_files")
    df = journey.query(sql)
    read, rejected, dupes = (int(df[c].sum()) for c in ("rows_read", "rejected", "duplicates"))
    if len(df):
        worst = df.sort_values(["rejected_share", "source_file"], ascending=[False, True]).iloc[0]
        headline = (
            f"{len(df)} files, {read:,} rows: {rejected:,} rows set aside "
            f"({_pct(rejected / read if read else 0)}) and {dupes:,} exact duplicates removed; "
            f"the most affected file is {worst.source_file} "
            f"({_pct(worst.rejected_share)} set aside)."
        )
        if not bool(df["reconciles"].all()):
            headline += " Some files do not reconcile: check the ingest."
    else:
        headline = "No files have been ingested."
    return Result("health.files", df, sql, {}, headline, chart_fn=_files_chart)


def _files_chart(result: Result) -> alt.Chart:
    long = result.df.melt(
        id_vars=["source_file"], value_vars=["accepted", "rejected", "duplicates"],
        var_name="status", value_name="rows",
    )
    return (
        alt.Chart(long, title="Rows received per file")
        .mark_bar()
        .encode(
            y=alt.Y("source_file:N", title=None, sort="-x"),
            x=alt.X("sum(rows):Q", title="rows"),
            color=alt.Color("status:N", title=None,
                            sort=["accepted", "duplicates", "rejected"]),
            tooltip=["source_file", "status", "rows"],
        )
    )


# ---------------------------------------------------------------------------- rejects


def rejects(journey: Journey, *, examples: int = 3, max_chars: int = 160) -> Result:
    """Why rows were set aside: per feed, problem and column, with example rows (masked)."""
    _require_warehouse(journey, "rejects")
    params = {"examples": int(examples), "max_chars": int(max_chars)}
    sql = render("health_rejects")
    df = journey.query(sql, params)
    df.insert(2, "problem", df["code"].map(PROBLEMS).fillna(df["code"].str.replace("_", " ")))
    if len(df):
        by_problem = df.groupby("problem")["rows"].sum().sort_values(ascending=False)
        headline = (
            f"{int(df['rows'].sum()):,} rows were set aside for {len(by_problem)} kinds of "
            f"problem; the most common is \"{by_problem.index[0]}\" ({int(by_problem.iloc[0]):,} "
            "rows). Each is listed with its file and row so the source system can be fixed."
        )
    else:
        headline = "No row had to be set aside."
    return Result("health.rejects", df, sql, params, headline, chart_fn=_rejects_chart)


def _rejects_chart(result: Result) -> alt.Chart:
    return (
        alt.Chart(result.df, title="Rows set aside, by problem")
        .mark_bar()
        .encode(
            y=alt.Y("problem:N", title=None, sort="-x"),
            x=alt.X("sum(rows):Q", title="rows"),
            color=alt.Color("feed:N", title="feed"),
            tooltip=["feed", "problem", "column", "rows"],
        )
    )


# ---------------------------------------------------------------------------- coverage


def coverage(journey: Journey, *, grain: str = "month") -> Result:
    """Events per feed per period (client time zone) over the whole data period, zeros filled in;
    `tables["feeds"]` has per feed and event the time span and the empty periods inside it."""
    if grain not in GRAINS:
        raise CjError(f"health.coverage: grain must be one of {GRAINS}, not {grain!r}")
    params = {"grain": grain, "timezone": journey.settings.timezone}
    sql = render("health_coverage")
    df = journey.query(sql, params)
    feeds = journey.query(render("health_feeds"), params)
    per_feed = feeds.groupby("feed").agg(
        first_ts=("first_ts", "min"), last_ts=("last_ts", "max"),
        empty_periods=("empty_periods", "max"),
    )
    if len(df):
        gappy = per_feed[per_feed.empty_periods > 0]
        span = _period(per_feed.first_ts.min(), per_feed.last_ts.max())
        headline = f"{len(per_feed)} feeds with events from {span}; "
        if len(gappy):
            names = ", ".join(f"{f} ({int(n)})" for f, n in gappy.empty_periods.items())
            headline += f"feeds with empty {grain}s inside their own span: {names}."
        else:
            headline += f"no feed has an empty {grain} inside its own span."
    else:
        headline = "There are no events."
    return Result(
        "health.coverage", df, sql, params, headline, chart_fn=_coverage_chart,
        tables={"feeds": feeds},
    )


def _coverage_chart(result: Result) -> alt.Chart:
    grain = result.params.get("grain", "month")
    label_format = {"day": "%d %b %Y", "week": "%d %b %Y", "month": "%b %Y",
                    "quarter": "%b %Y", "year": "%Y"}[grain]
    data = result.df.assign(label=result.df["period"].dt.strftime(label_format))
    return (
        alt.Chart(data, title=f"Events per feed and {grain}")
        .mark_rect()
        .encode(
            x=alt.X("label:O", title=None,
                    sort=alt.EncodingSortField(field="period", op="min"),
                    axis=alt.Axis(labelAngle=-45, labelOverlap=True)),
            y=alt.Y("feed:N", title=None),
            color=alt.Color("events:Q", title="events", scale=alt.Scale(type="symlog")),
            tooltip=["feed", alt.Tooltip("label:N", title=grain),
                     alt.Tooltip("events:Q", format=",")],
        )
        .properties(height=alt.Step(22))
    )


# ---------------------------------------------------------------------------- stitching


def stitching(journey: Journey) -> Result:
    """Per feed: customers, how many were tied to another feed and through which identifiers;
    `tables["reach"]` counts customers by the number of feeds they appear in."""
    _require_warehouse(journey, "stitching")
    sql = render("health_stitching")
    df = journey.query(sql)
    reach = journey.query(render("health_stitching_reach"))
    total = int(reach["customers"].sum())
    multi = int(reach.loc[reach["n_feeds"] > 1, "customers"].sum())
    if len(df) and total:
        weakest = df.iloc[0]
        headline = (
            f"{_pct(multi / total)} of the {total:,} customers were found in more than one "
            f"system; the least connected feed is {weakest.feed}, where "
            f"{_pct(weakest.linked_share)} of its customers could be tied to another system."
        )
    else:
        headline = "No feed has been stitched."
    return Result(
        "health.stitching", df, sql, {}, headline, chart_fn=_stitching_chart,
        tables={"reach": reach},
    )


def _stitching_chart(result: Result) -> alt.Chart:
    return (
        alt.Chart(result.df, title="Customers tied to another system, per feed")
        .mark_bar()
        .encode(
            y=alt.Y("feed:N", title=None, sort="x"),
            x=alt.X("linked_share:Q", title="share of the feed's customers",
                    axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=["feed", "customers", "linked_customers",
                     alt.Tooltip("linked_share:Q", format=".1%"), "linked_by"],
        )
    )


# ---------------------------------------------------------------------------- values


def values(journey: Journey, field: str = "campaign", *, top: int = 20) -> Result:
    """The most frequent values of a canonical column (event, channel, source, ...) or of an
    extra attribute kept in `attrs` (campaign, product, ...), per feed, masked."""
    params: dict[str, Any] = {"field": field, "top": int(top)}
    if field in CANONICAL_VALUE_COLUMNS:
        sql = render("health_values_column", column=field)
    else:
        sql = render("health_values_attr")
        params["path"] = f"$.{field}"
    df = journey.query(sql, params)
    if len(df):
        first = df.iloc[0]
        headline = (
            f"{df['value'].nunique()} {field} values in the data (top {top} shown); the most "
            f"frequent is \"{first.value}\" with {int(first.events):,} events."
        )
    else:
        headline = f"No event carries a {field}."
    return Result(f"health.values[{field}]", df, sql, params, headline,
                  chart_fn=_values_chart)


def _values_chart(result: Result) -> alt.Chart:
    field = result.params.get("field", "value")
    return (
        alt.Chart(result.df, title=f"Events per {field}")
        .mark_bar()
        .encode(
            y=alt.Y("value:N", title=None, sort="-x"),
            x=alt.X("sum(events):Q", title="events"),
            color=alt.Color("feed:N", title="feed"),
            tooltip=["feed", "value", "events", "customers"],
        )
    )
