"""Descriptive facts shown beside the nuggets, never as nuggets: they are not effects of
something the client varies, and there is no "no effect" to test them against.

- drop-out hot-spots (`j.hotspots(phase-ordered funnel)`): every funnel loses people somewhere;
  where it loses the most margin is worth knowing, but the loss exists in any business;
- the least liked touchpoint (`j.touchpoints(survey_event=..., link="attr")` when the surveys
  name their touchpoint, else linked to the last one): touchpoints differ by nature (a complaint
  call never scores like a purchase), and a survey score carries no money.
"""

from __future__ import annotations

import numpy as np

from cjlib.nuggets.catalogue import phase_funnel
from cjlib.nuggets.common import ScanState, money, pretty
from cjlib.nuggets.model import ContextFact

MIN_SURVEYS = 30


def facts(st: ScanState) -> tuple[list[ContextFact], dict[str, str]]:
    """The context facts and, per source, what was done ('scanned ...' / 'not scanned (...)')."""
    out: list[ContextFact] = []
    status: dict[str, str] = {}
    for name, fn in (("hotspots", _hotspot), ("touchpoints", _touchpoint)):
        try:
            fact = fn(st)
        except Exception as exc:
            status[name] = f"not scanned (error: {type(exc).__name__}: {exc})"
            continue
        if isinstance(fact, str):
            status[name] = f"not scanned ({fact})"
        else:
            out.append(fact)
            status[name] = "scanned: 1 context fact"
    return out, status


def _hotspot(st: ScanState) -> ContextFact | str:
    steps = phase_funnel(st.cat, st.journey)
    if len(steps) < 3:
        return "no funnel of at least three steps before the conversion"
    res, text = st.run("hotspots", steps)
    if res.df.empty or not res.df["lost"].sum():
        return "nobody drops out of the funnel"
    top = res.df.iloc[0]
    years = st.cat.years(steps[0])
    per = [float(top[c]) / years if np.isfinite(top[c]) else None
           for c in ("money_at_stake", "money_low", "money_high")]
    head = (f"The costliest drop-out in the funnel {' -> '.join(pretty(s) for s in steps)} is "
            f"between {pretty(top['from_step'])} and {pretty(top['to_step'])}: "
            f"{int(top['lost']) / years:,.0f} a year lost there")
    if per[0] is not None:
        head += f", about {money(per[0], st.currency)} of margin a year"
    return ContextFact("hotspots", head + ".", text, res, *per,
                       subject=f"{top['from_step']} -> {top['to_step']}")


def _touchpoint(st: ScanState) -> ContextFact | str:
    ev, attrs = st.cat.events, st.cat.attrs
    surveys = ev[(ev.kind == "surveys") & (ev.n >= MIN_SURVEYS)]
    if surveys.empty:
        return "no survey events (kind surveys)"
    survey = str(surveys.n.idxmax())
    labelled = attrs[(attrs.event == survey) & (attrs.key == "touchpoint")
                     & (attrs.with_value >= 0.5 * attrs.n)]
    kw = {"survey_event": survey, **({"link": "attr"} if len(labelled) else {})}
    res, text = st.run("touchpoints", **kw)
    df = res.df[res.df["surveys"] >= MIN_SURVEYS]
    if len(df) < 2:
        return f"fewer than two touchpoints with {MIN_SURVEYS} surveys"
    worst = df.sort_values("mean_score").iloc[0]
    others = df.drop(index=worst.name)
    mean_others = float((others.mean_score * others.surveys).sum() / others.surveys.sum())
    scale = res.params.get("scale", (0, 10))
    head = (f"The least liked touchpoint is {pretty(worst.touchpoint)}: mean score "
            f"{worst.mean_score:.1f} of {scale[1]:g} (95% CI {worst.score_low:.1f}-"
            f"{worst.score_high:.1f}, {int(worst.surveys):,} surveys) vs {mean_others:.1f} for "
            "the other touchpoints")
    return ContextFact("touchpoints", head + ".", text, res, figures={
        "mean_score": (float(worst.mean_score), float(worst.score_low),
                       float(worst.score_high)),
        "mean_score_others": (mean_others, None, None)}, subject=str(worst.touchpoint))
