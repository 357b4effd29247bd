"""Paths: transition matrices, channel journeys (top sequences and switches) with their
conversion, what customers do after dropping out at a step, and the effect of switching channel.

Sequences are ordered by (ts, event_id). `paths(j, ...)` dispatches on its arguments:
`after=` -> `after_paths`, `anchor=` -> `switch_effect`, otherwise `channel_paths`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cjlib.analyses.journey_common import (
    add_wilson,
    as_list,
    fmt_pct,
    observation_end,
    parse_window,
    state_column,
)
from cjlib.analyses.sqlfiles import render
from cjlib.analyses.stats import diff_interval, risk_ratio, two_proportion_test
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

Names = str | list[str] | None


def transitions(
    j: Journey,
    level: str = "event",
    *,
    events: Names = None,
    exclude: Names = None,
    collapse: bool | None = None,
    start_end: bool = True,
) -> Result:
    """Transition matrix between consecutive `level` states of each customer (event, channel,
    phase, ...): counts `n`, row-normalised probabilities `p` with Wilson intervals.

    collapse: count a run of the same state once (default: yes for channel/phase, no for event).
    start_end: add '(start)' and '(end)' states. events / exclude: which events take part.
    """
    from cjlib.charts.journey import transitions_chart

    column = state_column(level)
    collapse = level != "event" if collapse is None else collapse
    sql = render("transitions", level=column)
    params = {"events": as_list(events), "exclude": as_list(exclude), "collapse": collapse,
              "start_end": start_end}
    df = j.query(sql, params)
    df["from_total"] = df.groupby("from_state")["n"].transform("sum")
    df = add_wilson(df, "n", "from_total", rate="p", low="p_low", high="p_high")
    real = df[(df.from_state != "(start)") & (df.to_state != "(end)")]
    if len(real):
        top = real.sort_values(["n", "from_state"], ascending=[False, True]).iloc[0]
        headline = (f"{real.n.sum():,} {level} transitions between "
                    f"{len(set(real.from_state) | set(real.to_state))} states; most common "
                    f"{top.from_state} → {top.to_state} ({top.n:,}, {fmt_pct(top.p)} of moves "
                    f"out of {top.from_state}).")
    else:
        headline = f"No {level} transitions in the data."
    return Result("transitions", df, sql, {"level": level, **params}, headline,
                  transitions_chart)


def channel_paths(
    j: Journey,
    level: str = "channel",
    *,
    conversion_event: str = "purchase",
    window: str | None = None,
    events: Names = None,
    exclude: Names = None,
    collapse: bool | None = None,
    top: int = 15,
    max_steps: int = 8,
    max_switches: int = 3,
    data_end: Any = None,
) -> Result:
    """Top sequences (variants) of `level` per customer before their first `conversion_event`,
    with conversion rates and Wilson intervals; `tables["switches"]` gives conversion by number
    of switches (0, 1, ..., `max_switches`+). Paths start at a customer's first in-scope event;
    with `window` they are cut at start + window and conversion must fall inside it (customers
    whose window is still open unconverted are `in_progress`, not counted in rates)."""
    from cjlib.charts.journey import variants_chart

    column = state_column(level)
    collapse = level != "event" if collapse is None else collapse
    win = parse_window(window)
    params = {"conversion": conversion_event, "window": win, "events": as_list(events),
              "exclude": as_list(exclude), "collapse": collapse, "top": int(top),
              "max_steps": int(max_steps), "max_switches": int(max_switches),
              "data_end": observation_end(j, data_end)}
    sql_v = render("paths_variants", level=column)
    sql_s = render("paths_switches", level=column)
    df = add_wilson(j.query(sql_v, params), "conversions", "customers")
    total = df.customers.sum()
    df["share"] = df.customers / total if total else np.nan
    switches = add_wilson(j.query(sql_s, params), "conversions", "customers")
    if len(df):
        best = df[df.path != "(other)"].iloc[0]
        headline = (f"{total:,} customers; most common {level} path '{best.path}' "
                    f"({fmt_pct(best.share)} of customers) converts at {fmt_pct(best.rate)} "
                    f"vs {fmt_pct(df.conversions.sum() / total if total else np.nan)} overall.")
    else:
        headline = "No customers with paths."
    return Result("paths", df, f"{sql_v};\n\n{sql_s}", {"level": level, **params}, headline,
                  variants_chart, {"switches": switches})


def after_paths(
    j: Journey,
    after: str,
    *,
    unless: str | None = None,
    level: str = "event",
    steps: int = 3,
    conversion_event: str = "purchase",
    window: str | None = None,
    events: Names = None,
    exclude: Names = None,
    top: int = 15,
    data_end: Any = None,
) -> Result:
    """What customers do after dropping out at a step: the next `steps` `level` states after
    their last `after` event, for customers with no `unless` event after it (e.g.
    after="id_check_started", unless="id_check_completed"), with the conversion of each next
    path. `tables["steps"]` holds the share of each state at next positions 1..steps."""
    from cjlib.charts.journey import after_chart

    column = state_column(level)
    params = {"after": after, "unless": unless, "steps": int(steps),
              "conversion": conversion_event, "window": parse_window(window),
              "events": as_list(events), "exclude": as_list(exclude), "top": int(top),
              "data_end": observation_end(j, data_end)}
    sql_p = render("paths_after", level=column)
    sql_s = render("paths_after_steps", level=column)
    df = add_wilson(j.query(sql_p, params), "conversions", "customers")
    total = df.customers.sum() + df.in_progress.sum()
    df["share"] = (df.customers + df.in_progress) / total if total else np.nan
    step_table = j.query(sql_s, params)
    who = f"after {after}" + (f" without {unless}" if unless else "")
    if total:
        first = step_table[step_table.position == 1].iloc[0]
        headline = (f"{total:,} customers stopped {who}; the most common next {level} is "
                    f"{first.state} ({fmt_pct(first.share)}); "
                    f"{fmt_pct(df.conversions.sum() / max(df.customers.sum(), 1))} of them "
                    f"still reached {conversion_event}.")
    else:
        headline = f"No customers stopped {who}."
    return Result("paths_after", df, f"{sql_p};\n\n{sql_s}", {"level": level, **params},
                  headline, after_chart, {"steps": step_table})


def switch_effect(
    j: Journey,
    *,
    anchor: str = "quote",
    anchor_channel: str | None = "web",
    switch_event: str | None = None,
    switch_channel: str | None = "phone",
    within: str = "3d",
    conversion_event: str = "purchase",
    window: str | None = "30d",
    before_conversion: bool = True,
    data_end: Any = None,
) -> Result:
    """Conversion of customers who switch channel after an anchor (e.g. a web quote followed by
    an inbound call within 3 days) vs those who do not: rates with Wilson intervals, the risk
    ratio (Katz interval), the difference (Newcombe interval) and a two-proportion z-test."""
    from cjlib.charts.journey import switch_chart

    if switch_event is None and switch_channel is None:
        raise ValueError("give switch_event and/or switch_channel")
    params = {"anchor": anchor, "anchor_channel": anchor_channel, "switch_event": switch_event,
              "switch_channel": switch_channel, "within": parse_window(within),
              "conversion": conversion_event, "window": parse_window(window),
              "before_conversion": before_conversion, "data_end": observation_end(j, data_end)}
    sql = render("paths_switch")
    df = j.query(sql, params)
    df = add_wilson(df, "conversions", "customers")
    df["group"] = np.where(df.switched, "switched", "did not switch")
    sw = df[df.switched]
    no = df[~df.switched]
    k1, n1 = (int(sw.conversions.sum()), int(sw.customers.sum()))
    k0, n0 = (int(no.conversions.sum()), int(no.customers.sum()))
    ratio, r_low, r_high = risk_ratio(k1, n1, k0, n0)
    diff, d_low, d_high = diff_interval(k1, n1, k0, n0)
    pooled = (k1 + k0) / (n1 + n0) if n1 + n0 else 0.0
    p_value = two_proportion_test(k1, n1, k0, n0)[1] if 0 < pooled < 1 else np.nan
    fitted = {"risk_ratio": ratio, "risk_ratio_low": r_low, "risk_ratio_high": r_high,
              "difference": diff, "difference_low": d_low, "difference_high": d_high,
              "p_value": p_value, "share_switching": n1 / (n1 + n0) if n1 + n0 else np.nan}
    to = " ".join(x for x in (switch_channel, switch_event) if x)
    where = f"{anchor_channel} " if anchor_channel else ""
    if n1 and n0:
        headline = (f"Of {n1 + n0:,} customers with a {where}{anchor}, {n1:,} switched to {to} "
                    f"within {within}; they converted at {fmt_pct(k1 / n1)} vs "
                    f"{fmt_pct(k0 / n0)} (ratio {ratio:.2f}, 95% CI {r_low:.2f}-{r_high:.2f}).")
    else:
        headline = (f"Of {n1 + n0:,} customers with a {where}{anchor}, {n1:,} switched to {to} "
                    f"within {within}: no comparison possible.")
    return Result("switch_effect", df, sql, {**params, **fitted}, headline, switch_chart)


def paths(j: Journey, **kwargs: Any) -> Result:
    """Dispatch: `after=` -> after_paths (drop-off next steps); `anchor=` -> switch_effect
    (conversion of channel switchers); otherwise channel_paths (top sequences and switches)."""
    if "after" in kwargs:
        return after_paths(j, kwargs.pop("after"), **kwargs)
    if "anchor" in kwargs:
        return switch_effect(j, **kwargs)
    return channel_paths(j, **kwargs)
