"""Touchpoints: volume, satisfaction and duration per touchpoint, ranked as pain points.

Pain score (documented in `touchpoints`):
    pain = volume x excess dissatisfaction x mean duration (minutes)
    excess dissatisfaction = max(0, overall mean score - touchpoint mean score)
                             / (scale_max - scale_min)
i.e. "excess dissatisfied contact-minutes": the customer time spent at a touchpoint, weighted by
how much worse its linked surveys score than the average linked survey. High volume, low
(relative) satisfaction and long contacts all raise it; a touchpoint scoring at or above the
average has pain 0, however busy or long it is (busy, long but well-rated sales calls are not a
pain point). The absolute `dissatisfaction` = (scale_max - mean) / (scale_max - scale_min) is
reported too. Touchpoints with fewer than `min_surveys` linked surveys (or, when any touchpoint
has durations, without a duration) get no score and rank after the scored ones; when no
touchpoint has durations the duration factor is left out for all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cjlib.analyses.journey_common import as_list, parse_window
from cjlib.analyses.sqlfiles import render
from cjlib.errors import CjError
from cjlib.result import Result

if TYPE_CHECKING:
    from cjlib.journey import Journey

Names = str | list[str] | None
BY = ("event", "channel", "source", "kind", "phase", "outcome", "feed")


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def touchpoints(
    j: Journey,
    by: str = "event",
    *,
    attr: str | None = None,
    survey_event: str = "survey",
    link: str = "auto",
    labels: dict[str, str] | None = None,
    link_window: str | None = None,
    events: Names = None,
    exclude: Names = None,
    scale: tuple[float, float] = (0.0, 10.0),
    min_surveys: int = 5,
) -> Result:
    """Volume, customers, duration (mean, median), survey satisfaction (mean score with a 95%
    t-interval) and the pain score per touchpoint, ranked (`pain_rank` 1 = worst).

    by: the column naming a touchpoint (event, channel, ...); attr: an attrs key appended as
    '<by>/<value>' (e.g. by="event", attr="reason" -> 'inbound_call/complaint').
    link: how a survey's score reaches a touchpoint: 'attr' (the survey's attrs.touchpoint label,
    renamed through `labels`), 'last' (the customer's last touchpoint at or before the survey,
    within `link_window` when given), 'auto' (its label when that names a touchpoint, else the
    last touchpoint).
    Touchpoints with fewer than `min_surveys` linked surveys get no pain score.
    See the module docstring for the pain score."""
    from cjlib.charts.journey import touchpoints_chart

    if by not in BY:
        raise CjError(f"by must be one of {BY}, not {by!r}")
    if link not in ("attr", "last", "auto"):
        raise CjError("link must be 'attr', 'last' or 'auto'")
    labels = labels or {}
    params = {"attr_path": _json_path(attr) if attr else None, "survey_event": survey_event,
              "link": link, "label_from": list(labels), "label_to": list(labels.values()),
              "link_window": parse_window(link_window), "events": as_list(events),
              "exclude": as_list(exclude)}
    sql = render("touchpoints", by=by)
    raw = j.query(sql, params)
    unlinked = int(raw.loc[raw.touchpoint.isna(), "surveys"].sum())
    df = raw[raw.touchpoint.notna()].copy()
    df, overall = _score(df, scale, min_surveys)
    scored = df[df.pain_score > 0]
    if len(scored):
        worst = scored.iloc[0]
        headline = (f"Biggest pain point: {worst.touchpoint} ({worst.volume:,} contacts, mean "
                    f"score {worst.mean_score:.1f} of {scale[1]:g} from {worst.surveys:,} "
                    f"surveys vs {overall:.1f} on average, mean duration "
                    f"{worst.mean_duration_s / 60:.1f} min)."
                    if np.isfinite(worst.mean_duration_s) else
                    f"Biggest pain point: {worst.touchpoint} ({worst.volume:,} contacts, mean "
                    f"score {worst.mean_score:.1f} of {scale[1]:g}).")
    else:
        headline = (f"No touchpoint with at least {min_surveys} linked surveys scores below "
                    "the average survey.")
    out = {"by": by, "attr": attr, "labels": labels, **params, "scale": scale,
           "min_surveys": min_surveys, "unlinked_surveys": unlinked,
           "overall_mean_score": overall}
    return Result("touchpoints", df.reset_index(drop=True), sql, out, headline,
                  touchpoints_chart)


def _score(df: pd.DataFrame, scale: tuple[float, float],
           min_surveys: int) -> tuple[pd.DataFrame, float]:
    """Add the score interval, dissatisfaction, pain score and rank; sort by pain. Also returns
    the overall mean score of the linked surveys."""
    from scipy.stats import t as student_t

    lo, hi = scale
    n = df.surveys.to_numpy(float)
    sd = np.sqrt(df.var_score.to_numpy(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = student_t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    df["score_low"] = np.where(n > 1, df.mean_score - half, np.nan)
    df["score_high"] = np.where(n > 1, df.mean_score + half, np.nan)
    df["dissatisfaction"] = np.clip((hi - df.mean_score) / (hi - lo), 0, 1)
    overall = float((df.mean_score.fillna(0) * n).sum() / n.sum()) if n.sum() else np.nan
    df["excess_dissatisfaction"] = np.clip((overall - df.mean_score) / (hi - lo), 0, 1)
    df["mean_duration_min"] = df.mean_duration_s / 60
    use_duration = bool(df.mean_duration_s.notna().any())
    minutes = df.mean_duration_min if use_duration else 1.0
    pain = df.volume * df.excess_dissatisfaction * minutes
    df["pain_score"] = np.where((n >= min_surveys) & (df.volume > 0), pain, np.nan)
    df = df.sort_values(["pain_score", "volume"], ascending=[False, False], na_position="last")
    df["pain_rank"] = np.where(df.pain_score.notna(),
                               np.arange(1, len(df) + 1), np.nan)
    return df.drop(columns="var_score"), overall
