"""Simulate the underlying truth of a sample client: persons and their journeys, vectorised.

One chunk of persons at a time; persons never span chunks, so every table of a chunk is
self-contained. Timestamps are int64 UTC seconds. Identifiers are derived from the person id by
the house-style renderers, so the tables here carry only ``pid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .spec import DAY, MINUTE, QUOTE_END, T0, T_END, SampleSpec

WEEK = 7 * DAY
MAX_REPEATS = 12
SURVEY_MEANS = {
    "web_quote": 7.0,
    "followup_call": 7.5,
    "purchase": 8.2,
    "payout": 6.0,
    "complaint_call": 2.8,
}


@dataclass(frozen=True)
class Planted:
    """The multipliers actually used (all 1 / flat in the effect-free variant)."""

    effects: bool
    latency_within: float
    switch_mult: float
    id_check_fail: float
    source_mult: tuple[float, ...]
    segment_mult: tuple[float, ...]
    complaint_base: float
    complaint_slope: float
    complaint_cap: float


def planted(spec: SampleSpec, effects: bool) -> Planted:
    """Resolve the planted multipliers for ``effects`` on or off."""
    if effects:
        return Planted(
            True, spec.latency_mult_within, spec.switch_mult, spec.id_check_fail,
            tuple(s.conv_mult for s in spec.sources), tuple(s.conv_mult for s in spec.segments),
            spec.complaint_base, spec.complaint_slope, spec.complaint_cap,
        )
    return Planted(
        False, 1.0, 1.0, spec.normal_step_fail, (1.0,) * len(spec.sources),
        (1.0,) * len(spec.segments), spec.complaint_flat, 0.0, spec.complaint_flat,
    )


def latency_mult(lat_min: np.ndarray, called: np.ndarray, spec: SampleSpec, w: float) -> np.ndarray:
    """2.0 (w) within 20 min, linear down to 1.0 at 60 min, 1.0 after 60 min or never called."""
    lo, hi = spec.latency_within_min, spec.latency_after_min
    mid = w - (w - 1.0) * (lat_min - lo) / (hi - lo)
    m = np.where(lat_min <= lo, w, np.where(lat_min >= hi, 1.0, mid))
    return np.where(called, m, 1.0)


def _ts(s: str) -> int:
    return int(pd.Timestamp(s, tz="UTC").timestamp())


def _frame(**cols: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(cols)


def simulate_chunk(
    spec: SampleSpec, seed: int, chunk: int, n: int, pid0: int, effects: bool
) -> dict[str, pd.DataFrame]:
    """Simulate ``n`` persons with ids ``pid0..pid0+n-1``; returns the world's tables."""
    rng = np.random.default_rng([seed, chunk])
    pl = planted(spec, effects)
    seg_p = np.array([s.share for s in spec.segments])
    src_p = np.array([s.share for s in spec.sources])
    pid = pid0 + np.arange(n, dtype=np.int64)
    seg = rng.choice(len(seg_p), n, p=seg_p / seg_p.sum())
    src = rng.choice(len(src_p), n, p=src_p / src_p.sum())
    region = rng.integers(0, len(spec.regions), n)
    anon = rng.random(n) < spec.anon_share
    first = T0 + 3 * DAY + (rng.random(n) * (QUOTE_END - T0 - 3 * DAY)).astype(np.int64)
    # daytime-ish: shift into 07:00-22:00 UTC
    first = first - first % DAY + (7 * 3600 + rng.integers(0, 15 * 3600, n))
    web_share = np.array([s.web_share for s in spec.segments])[seg]
    web = anon | (rng.random(n) < web_share)
    known = ~anon

    # --- web: page views before first contact, quote steps
    n_pv = 1 + rng.poisson(4.0, n)
    n_pv = np.where(web, n_pv, 0)
    pv_pid = np.repeat(np.arange(n), n_pv)
    pv_ts = first[pv_pid] - (rng.random(len(pv_pid)) * 10 * DAY).astype(np.int64) - 600
    pv_ts = np.maximum(pv_ts, T0 + rng.integers(0, 3600, len(pv_ts)))
    pv_page = rng.integers(0, 6, len(pv_pid))
    qs = (anon & (rng.random(n) < spec.anon_quote_start)) | (known & web)
    quote_web = known & web
    idc_s = quote_web & (rng.random(n) < spec.id_check_start)
    idc_ok = idc_s & (rng.random(n) >= pl.id_check_fail)
    t_qs = first - rng.integers(120, 900, n)
    t_idcs = first + rng.integers(60, 600, n)
    t_idco = t_idcs + rng.integers(30, 300, n)
    web_rows = [
        _frame(pid=pid[pv_pid], ts=pv_ts, action=np.full(len(pv_pid), "page_view"), page=pv_page),
        _frame(pid=pid[qs], ts=t_qs[qs], action=np.full(qs.sum(), "quote_start"), page=6),
        _frame(pid=pid[idc_s], ts=t_idcs[idc_s], action=np.full(idc_s.sum(), "id_check_started"),
               page=7),
        _frame(pid=pid[idc_ok], ts=t_idco[idc_ok],
               action=np.full(idc_ok.sum(), "id_check_completed"), page=8),
    ]
    web_t = pd.concat(web_rows, ignore_index=True)

    # --- quotes (one per known person)
    k = np.flatnonzero(known)
    nk = len(k)
    q_ts = first[k]
    q_src = src[k]
    q_seg = seg[k]
    q_web = quote_web[k]
    prem_level = np.array([s.premium for s in spec.segments])[q_seg]
    premium = np.round(prem_level * rng.lognormal(0.0, 0.25, nk), 2)
    product = rng.choice(len(spec.products), nk, p=[0.6, 0.3, 0.1])
    t_start, t_end = _ts(spec.test_start), _ts(spec.test_end)
    in_test = (q_ts >= t_start) & (q_ts < t_end)
    arm_phone = in_test & (rng.random(nk) < 0.5)
    arm_email = in_test & ~arm_phone
    call_prob = np.array([s.call_prob for s in spec.sources])[q_src]
    lat_med = np.array([s.latency_median_min for s in spec.sources])[q_src]
    called = np.where(in_test, arm_phone, rng.random(nk) < call_prob)
    lat_min = np.minimum(lat_med * rng.lognormal(0.0, 1.1, nk), 7 * 24 * 60.0)
    lat_min = np.where(arm_phone, rng.uniform(2.0, spec.test_call_max_min, nk), lat_min)
    lat_min = np.where(called, np.round(lat_min, 2), np.nan)
    emailed = np.where(in_test, arm_email, rng.random(nk) < spec.email_followup_prob)
    email_lat = np.where(arm_email, rng.uniform(5, 30, nk), rng.uniform(60, 24 * 60, nk))
    switched = q_web & (rng.random(nk) < spec.switch_prob)
    switch_min = rng.uniform(30, 72 * 60, nk)
    lm = latency_mult(np.nan_to_num(lat_min, nan=1e9), called, spec, pl.latency_within)
    p = (spec.base_conv * np.array(pl.source_mult)[q_src] * np.array(pl.segment_mult)[q_seg]
         * lm * np.where(switched, pl.switch_mult, 1.0))
    p = np.minimum(p, 0.9)
    conv = rng.random(nk) < p
    anchor = np.maximum(np.where(called, lat_min, 0), np.where(switched, switch_min, 0)) + 10
    buy_ts = q_ts + (anchor * MINUTE + rng.random(nk) * (30 * DAY - anchor * MINUTE - 60)).astype(
        np.int64
    )
    quotes = _frame(
        pid=pid[k], ts=q_ts, web=q_web, source=q_src, segment=q_seg, premium=premium,
        product=product, in_test=in_test, arm_phone=arm_phone, called=called, lat_min=lat_min,
        emailed=emailed, email_lat_min=email_lat, switched=switched, switch_min=switch_min,
        p=p, lat_mult=lm, converted=conv, buy_ts=buy_ts, idc_ok=idc_ok[k],
    )

    # --- calls: phone quote (IN), follow-up (OUT), switch (IN), complaints (IN, below)
    ph = ~q_web
    call_parts = [
        _frame(pid=pid[k][ph], ts=q_ts[ph] - rng.integers(300, 1200, ph.sum()), direction="IN",
               case=pid[k][ph], case_kind="quote", duration_s=rng.integers(240, 1500, ph.sum()),
               outcome="answered", reason="sales"),
        _frame(pid=pid[k][called], ts=q_ts[called] + (lat_min[called] * MINUTE).astype(np.int64),
               direction="OUT", case=pid[k][called], case_kind="quote",
               duration_s=np.round(rng.lognormal(np.log(200), 0.6, called.sum())).astype(int),
               outcome=rng.choice(["answered", "no_answer", "voicemail"], called.sum(),
                                  p=[0.7, 0.2, 0.1]), reason="followup"),
        _frame(pid=pid[k][switched],
               ts=q_ts[switched] + (switch_min[switched] * MINUTE).astype(np.int64),
               direction="IN", case=pid[k][switched], case_kind="quote",
               duration_s=rng.integers(180, 1200, switched.sum()), outcome="answered",
               reason="sales"),
    ]

    # --- emails: follow-ups and the canary marketing campaign
    em = emailed
    email_parts = [
        _frame(pid=pid[k][em], ts=q_ts[em] + (email_lat[em] * MINUTE).astype(np.int64),
               event="followup_email", campaign=np.where(in_test[em], 1, 0),
               arm=np.where(in_test[em], "email", ""), case=pid[k][em]),
    ]
    it = in_test
    email_parts.append(
        _frame(pid=pid[k][it], ts=q_ts[it] + 1, event="test_assigned", campaign=1,
               arm=np.where(arm_phone[it], "phone", "email"), case=pid[k][it])
    )
    c_start = _ts("2025-04-01 08:00")
    mk = known & (first < c_start)
    mk_i = np.flatnonzero(mk)
    sent = c_start + rng.integers(0, 14 * DAY, len(mk_i))
    opened = rng.random(len(mk_i)) < 0.42
    clicked = opened & (rng.random(len(mk_i)) < 0.25)
    o_ts = sent + rng.integers(600, 3 * DAY, len(mk_i))
    c_ts = o_ts + rng.integers(5, 600, len(mk_i))
    for ev, m, t in (("email_sent", None, sent), ("email_opened", opened, o_ts),
                     ("email_clicked", clicked, c_ts)):
        sel = np.ones(len(mk_i), bool) if m is None else m
        email_parts.append(_frame(pid=pid[mk_i][sel], ts=t[sel], event=ev, campaign=2, arm="",
                                  case=-1))
    emails = pd.concat(email_parts, ignore_index=True)

    # --- orders: first purchase + BG/NBD repeats with Gamma-Gamma spend
    b = np.flatnonzero(conv)
    nb = len(b)
    t_first = buy_ts[b]
    bg, gg = spec.bgnbd, spec.gamma_gamma
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], nb)  # per week
    pdrop = rng.beta(bg["a"], bg["b"], nb)
    # BG/NBD: alive at the first purchase; drops out right after a repeat with probability p,
    # so the number of repeats before dropping out is geometric on {1, 2, ...}.
    allowed = rng.geometric(pdrop)
    gaps = rng.exponential(1.0, (nb, MAX_REPEATS)) / np.maximum(lam, 1e-9)[:, None]
    rep_t = t_first[:, None] + (np.cumsum(gaps, axis=1) * WEEK).astype(np.int64).clip(max=2**40)
    ok = (rep_t <= T_END - DAY) & (np.arange(MAX_REPEATS)[None, :] < allowed[:, None])
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], nb)
    rep_val = rng.gamma(gg["p"], 1.0, (nb, MAX_REPEATS)) / nu[:, None]
    rb, rj = np.nonzero(ok)
    buy_ch = np.where(idc_ok[k][b], "web", "phone")
    orders = pd.concat([
        _frame(pid=pid[k][b], ts=t_first, value=premium[b], kind="new", channel=buy_ch,
               product=product[b], quote=pid[k][b], seq=0),
        _frame(pid=pid[k][b][rb], ts=rep_t[rb, rj], value=np.round(rep_val[rb, rj], 2),
               kind=np.where(rng.random(len(rb)) < 0.5, "renewal", "add_on"), channel="phone",
               product=product[b][rb], quote=-1, seq=rj + 1),
    ], ignore_index=True)
    orders["order_no"] = orders["pid"] * 16 + orders["seq"]

    # --- payouts (claims / refunds) with delay, and complaints (dose-response on delay)
    pay = rng.random(nb) < spec.payout_prob
    pi = np.flatnonzero(pay)
    span = np.maximum(T_END - 45 * DAY - t_first[pi], DAY)
    req = t_first[pi] + 7 * DAY + (rng.random(len(pi)) * span).astype(np.int64)
    req = np.minimum(req, T_END - 40 * DAY)
    delay = rng.choice(16, len(pi), p=np.r_[np.full(4, 0.1), np.full(12, 0.05)])
    paid = req + delay * DAY + rng.integers(0, 8 * 3600, len(pi))
    unpaid = rng.random(len(pi)) < 0.04
    cprob = np.minimum(pl.complaint_base + pl.complaint_slope * delay, pl.complaint_cap)
    comp = rng.random(len(pi)) < cprob
    payouts = _frame(pid=pid[k][b][pi], case=pid[k][b][pi], req_ts=req,
                     paid_ts=np.where(unpaid, -1, paid), amount=np.round(
                         rng.lognormal(np.log(380), 0.7, len(pi)), 2),
                     delay_days=delay, unpaid=unpaid, complaint_p=cprob, complaint=comp,
                     auto=rng.random(len(pi)) < 0.5)
    bgc = known & (rng.random(n) < spec.background_complaint)
    bgi = np.flatnonzero(bgc)
    c_open = np.r_[req[comp] + rng.integers(DAY, 30 * DAY, comp.sum()),
                   first[bgi] + rng.integers(DAY, 60 * DAY, len(bgi))]
    c_pid = np.r_[pid[k][b][pi][comp], pid[bgi]]
    c_cat = np.r_[np.zeros(comp.sum(), int), rng.integers(1, 4, len(bgi))]
    nc = len(c_pid)
    resolved = rng.random(nc) < 0.85
    c_res = c_open + rng.integers(DAY // 2, 21 * DAY, nc)
    c_res = np.where(resolved & (c_res < T_END), c_res, -1)
    complaints = _frame(pid=c_pid, case=c_pid * 4 + np.r_[np.zeros(comp.sum(), int),
                                                          np.ones(len(bgi), int)],
                        opened=c_open, resolved=c_res, category=c_cat)
    n_cc = 1 + rng.poisson(1.5, nc)
    ci = np.repeat(np.arange(nc), n_cc)
    cc_end = np.where(c_res > 0, c_res, c_open + 10 * DAY)
    cc_ts = c_open[ci] + (rng.random(len(ci)) * (cc_end - c_open)[ci]).astype(np.int64)
    call_parts.append(
        _frame(pid=c_pid[ci], ts=cc_ts, direction="IN", case=complaints["case"].to_numpy()[ci],
               case_kind="complaint",
               duration_s=np.round(rng.lognormal(np.log(840), 0.5, len(ci))).astype(int),
               outcome=rng.choice(["answered", "transferred", "abandoned"], len(ci),
                                  p=[0.6, 0.25, 0.15]), reason="complaint")
    )
    calls = pd.concat(call_parts, ignore_index=True)

    # --- surveys after touchpoints
    touch = [
        ("web_quote", quotes.loc[quotes.web, ["pid", "ts"]], 0.10),
        ("followup_call", calls.loc[calls.reason == "followup", ["pid", "ts"]], 0.12),
        ("purchase", orders.loc[orders.seq == 0, ["pid", "ts"]], 0.15),
        ("payout", payouts.loc[~payouts.unpaid, ["pid", "paid_ts"]].rename(
            columns={"paid_ts": "ts"}), 0.20),
        ("complaint_call", calls.loc[calls.reason == "complaint", ["pid", "ts"]], 0.35),
    ]
    sv = []
    for i, (tp, df, prob) in enumerate(touch):
        sel = rng.random(len(df)) < prob
        m = int(sel.sum())
        score = np.clip(np.round(rng.normal(SURVEY_MEANS[tp], 1.8, m)), 0, 10).astype(int)
        sv.append(_frame(pid=df.pid.to_numpy()[sel],
                         ts=df.ts.to_numpy()[sel] + rng.integers(3600, 3 * DAY, m),
                         touchpoint=i, score=score, by_email=rng.random(m) < 0.6))
    surveys = pd.concat(sv, ignore_index=True)
    surveys = surveys[surveys.ts <= T_END].reset_index(drop=True)

    # --- contacts (CRM rows) and app events
    contacts = _frame(pid=pid[k], ts=q_ts - rng.integers(0, 120, nk), segment=q_seg,
                      region=region[k], source=q_src)
    app_users = b[rng.random(nb) < spec.app_prob]
    n_app = rng.poisson(6.0, len(app_users))
    ai = np.repeat(np.arange(len(app_users)), n_app)
    a_start = buy_ts[app_users]
    a_ts = a_start[ai] + (rng.random(len(ai)) * (T_END - a_start[ai])).astype(np.int64)
    app = _frame(pid=pid[k][app_users][ai], ts=a_ts,
                 event=rng.choice(4, len(ai), p=[0.5, 0.2, 0.2, 0.1]))

    persons = _frame(pid=pid, segment=seg, region=region, source=src, anon=anon, web=web,
                     first=first)
    return {
        "persons": persons, "web": web_t, "quotes": quotes, "calls": calls, "emails": emails,
        "orders": orders, "payouts": payouts, "complaints": complaints, "surveys": surveys,
        "contacts": contacts, "app": app,
    }


APP_EVENTS = ("app_login", "meter_reading_submitted", "bill_viewed", "usage_viewed")
TOUCHPOINTS = tuple(SURVEY_MEANS)


def canonical_events(w: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The simulated truth as one event table (pid, ts, event, case) before any rendering."""
    q, c, e, o, py, cp = (w[x] for x in ("quotes", "calls", "emails", "orders", "payouts",
                                         "complaints"))
    paid = py[py.paid_ts >= 0]
    res = cp[cp.resolved >= 0]
    em = e
    parts = [
        _frame(pid=w["web"].pid, ts=w["web"].ts, event=w["web"].action, case=-1),
        _frame(pid=q.pid, ts=q.ts, event="quote", case=q.pid),
        _frame(pid=c.pid, ts=c.ts, event=np.where(c.direction == "OUT", "followup_call",
                                                  "inbound_call"), case=c.case),
        _frame(pid=em.pid, ts=em.ts, event=em.event, case=em.case),
        _frame(pid=o.pid, ts=o.ts, event="purchase", case=o.order_no),
        _frame(pid=py.pid, ts=py.req_ts, event="payout_requested", case=py.case),
        _frame(pid=paid.pid, ts=paid.paid_ts, event="payout_paid", case=paid.case),
        _frame(pid=cp.pid, ts=cp.opened, event="complaint_opened", case=cp.case),
        _frame(pid=res.pid, ts=res.resolved, event="complaint_resolved", case=res.case),
        _frame(pid=w["surveys"].pid, ts=w["surveys"].ts, event="survey", case=-1),
        _frame(pid=w["contacts"].pid, ts=w["contacts"].ts, event="contact_created", case=-1),
        _frame(pid=w["app"].pid, ts=w["app"].ts,
               event=np.asarray(APP_EVENTS)[w["app"].event.to_numpy()], case=-1),
    ]
    return pd.concat(parts, ignore_index=True)
