"""Bookkeeping of what was written (truth.yml) and its plain-words twin (TRUTH.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .render import ID_BITS, ChunkOut, FileStyle, Rendered
from .simulate import TOUCHPOINTS, planted
from .spec import GENERATOR_VERSION, PERIOD_END, PERIOD_START, SampleSpec

LAT_BUCKETS = ("within_20m", "20_60m", "after_60m", "never")
DELAY_BUCKETS = ("0-2", "3-5", "6-9", "10-15")


def _r(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


class TruthAccumulator:
    """Collects per-chunk bookkeeping; ``result()`` gives the truth.yml mapping.

    Each chunk is recorded in an accumulator of its own (``add_file`` per export, then
    ``end_chunk``; it may run in a worker process) and merged, in chunk order, into the
    accumulator of the whole sample (``merge``)."""

    def __init__(self, spec: SampleSpec, seed: int, customers: int, effects: bool, xlsx: bool):
        self.spec, self.seed, self.customers, self.effects, self.xlsx = (
            spec, seed, customers, effects, xlsx)
        self.files: dict[str, dict[str, Any]] = {}
        self.events: Counter[str] = Counter()
        self.idx: dict[str, Any] = Counter()
        self._chunk_pid: list[np.ndarray] = []
        self._chunk_mask: list[np.ndarray] = []
        self.aggs: dict[str, list[pd.DataFrame]] = {"q": [], "pay": []}
        self.steps: Counter[str] = Counter()

    def _file(self, st_file: str, source: str, kind: str, fmt: str) -> dict[str, Any]:
        return self.files.setdefault(st_file, {"source": source, "kind": kind, "format": fmt,
                                               "rows": 0, "duplicates": 0, "broken": []})

    def add_file(self, st: FileStyle, r: Rendered, out: ChunkOut) -> None:
        """One export of the chunk (broken-row numbers count from the chunk's first row)."""
        f = self._file(st.file, st.source, st.kind, st.fmt)
        for b in out.broken:
            f["broken"].append({"file": st.file, "row": b["row"] + f["rows"],
                                "column": b["column"], "reason": b["reason"]})
        f["rows"] += out.n_rows
        f["duplicates"] += out.n_dup
        k = pa.array(out.keep, pa.int64())
        self.events.update(_counts(r.ev1.take(k)))
        if r.ev2 is not None:
            e2 = r.ev2.take(k)
            self.events.update(_counts(e2.filter(pc.not_equal(e2, ""))))
        self._chunk_pid.append(r.pid[out.keep])
        self._chunk_mask.append(np.broadcast_to(np.asarray(r.idmask, np.int64),
                                                r.pid.shape)[out.keep])

    def end_chunk(self, w: dict[str, pd.DataFrame]) -> None:
        """Identity truth of the chunk (persons never span chunks), and effect aggregates."""
        pid = np.concatenate(self._chunk_pid)
        m = np.concatenate(self._chunk_mask)
        self._chunk_pid, self._chunk_mask = [], []
        appearing, per_id, unified = _identity(pid, m)
        self.idx["persons_appearing"] += appearing
        for name, count in per_id.items():
            self.idx[name] += count
        self.idx["unified_customers"] += unified
        self.idx["persons_simulated"] += len(w["persons"])
        self.idx["anonymous_persons"] += int(w["persons"].anon.sum())
        q = w["quotes"].copy()
        lat = q.lat_min.fillna(np.inf).to_numpy()
        q["lat_bucket"] = np.select([~q.called, lat <= 20, lat < 60], [3, 0, 1], 2)
        q["n"] = 1
        keys = ["source", "segment", "lat_bucket", "switched", "web", "in_test", "arm_phone"]
        self.aggs["q"].append(q.groupby(keys, as_index=False)[
            ["n", "p", "converted", "premium", "lat_mult"]].sum())
        y = w["payouts"].assign(n=1, db=lambda d: np.digitize(d.delay_days, [3, 6, 10]))
        self.aggs["pay"].append(y.groupby("db", as_index=False)[
            ["n", "complaint_p", "complaint", "delay_days"]].sum())
        web = w["web"].action.value_counts()
        self.steps.update({k: int(v) for k, v in web.items()})
        self.steps["quote_web"] += int(w["quotes"].web.sum())

    def merge(self, chunk: TruthAccumulator) -> None:
        """Add the bookkeeping of the next chunk (its broken-row numbers shift by the rows
        already written)."""
        for name, c in chunk.files.items():
            f = self._file(name, c["source"], c["kind"], c["format"])
            for b in c["broken"]:
                f["broken"].append({**b, "row": b["row"] + f["rows"]})
            f["rows"] += c["rows"]
            f["duplicates"] += c["duplicates"]
        self.events.update(chunk.events)
        self.idx.update(chunk.idx)
        self.steps.update(chunk.steps)
        for k, v in chunk.aggs.items():
            self.aggs[k] += v

    def result(self) -> dict[str, Any]:
        spec = self.spec
        files = {}
        for name, f in self.files.items():
            nb = len(f["broken"])
            files[name] = {**{k: f[k] for k in ("source", "kind", "format", "rows",
                                                 "duplicates")},
                           "broken_rows": nb, "expected_accepted": f["rows"] - f["duplicates"]
                           - nb, "broken": f["broken"]}
        idn = {k: int(self.idx[k]) for k in ID_BITS}
        return {
            "generator": {"name": "cjlib.sample", "version": GENERATOR_VERSION},
            "client": spec.client, "seed": self.seed, "customers": self.customers,
            "effects_enabled": self.effects,
            "data_period": {"start": PERIOD_START, "end": PERIOD_END},
            "xlsx": {"written": self.xlsx, "note": None if self.xlsx else
                     "customers > 100000: XLSX sources written as CSV instead"},
            "files": files,
            "persons": {
                "simulated": int(self.idx["persons_simulated"]),
                "anonymous_simulated": int(self.idx["anonymous_persons"]),
                "appearing_in_exports": int(self.idx["persons_appearing"]),
                "with_identifier": idn,
                "expected_unified_customers": int(self.idx["unified_customers"]),
            },
            "events": {k: int(self.events[k]) for k in sorted(self.events)},
            "events_total": int(sum(self.events.values())),
            "effects": self._effects(),
            "canaries": [spec.canary_campaign],
        }

    def _effects(self) -> dict[str, Any]:
        spec, pl = self.spec, planted(self.spec, self.effects)
        q = pd.concat(self.aggs["q"]).groupby(
            ["source", "segment", "lat_bucket", "switched", "web", "in_test", "arm_phone"],
            as_index=False).sum()
        nt = q[~q.in_test]

        def rate(d: pd.DataFrame) -> tuple[float, float, int]:
            n = d.n.sum()
            return (d.p.sum() / n if n else np.nan, d.converted.sum() / n if n else np.nan,
                    int(n))

        lat = {}
        for i, b in enumerate(LAT_BUCKETS):
            e, o, n = rate(nt[nt.lat_bucket == i])
            lat[b] = {"quotes": n, "expected_rate": _r(e), "observed_rate": _r(o)}
        ref = nt[nt.lat_bucket >= 2]
        base_e, base_o, _ = rate(ref)
        in20 = rate(nt[nt.lat_bucket == 0])
        mid = nt[nt.lat_bucket == 1]
        w = pl.latency_within
        lat_eff = {
            "events": ["quote", "followup_call", "purchase"], "window_days": 30,
            "rule": (f"multiplier {w} if first follow-up call <= 20 min after the quote; "
                     f"{w} - ({w} - 1) * (minutes - 20) / 40 between 20 and 60 min; "
                     "1.0 at >= 60 min or never called"),
            "ratio_within_20m": _r(w), "ratio_after_60m": 1.0,
            "ratio_20_60m_mean": _r(mid.lat_mult.sum() / mid.n.sum()) if len(mid) else None,
            "reference": "after 60 min or never called",
            "base_rate": _r(base_e), "base_rate_observed": _r(base_o),
            "raw_expected_ratio_within_20m": _r(in20[0] / base_e),
            "raw_observed_ratio_within_20m": _r(in20[1] / base_o),
            "stratified_ratio_within_20m": _r(w),
            "effect_gone_after_min": 60 if self.effects else 0,
            "buckets": lat, "excludes": "follow-up test quotes",
        }
        wq = nt[nt.web]
        sw, nsw = rate(wq[wq.switched]), rate(wq[~wq.switched])
        switch = {"events": ["quote", "inbound_call", "purchase"], "from": "web", "to": "phone",
                  "within_days": 3, "share_switching": _r(sw[2] / max(sw[2] + nsw[2], 1)),
                  "ratio": _r(pl.switch_mult), "raw_expected_ratio": _r(sw[0] / nsw[0]),
                  "raw_observed_ratio": _r(sw[1] / nsw[1]), "switchers": sw[2]}
        st = self.steps
        started, done = st["id_check_started"], st["id_check_completed"]
        fail = {"step": "id_check_started -> id_check_completed",
                "funnel": ["page_view", "quote_start", "quote", "id_check_started",
                           "id_check_completed"],
                "failure_rate": _r(pl.id_check_fail),
                "observed_failure_rate": _r(1 - done / started) if started else None,
                "started": int(started), "completed": int(done),
                "other_steps_failure_rate": {
                    "quote_start -> quote": _r(1 - st["quote_web"] / st["quote_start"])}}
        srcs = {}
        for i, s_ in enumerate(spec.sources):
            e, o, n = rate(nt[nt.source == i])
            srcs[s_.name] = {"multiplier": _r(pl.source_mult[i]), "quotes": n,
                             "expected_rate": _r(e), "observed_rate": _r(o),
                             "call_prob": s_.call_prob,
                             "latency_median_min": s_.latency_median_min}
        worst_i = int(np.argmin([s_.conv_mult for s_ in spec.sources]))
        worst = spec.sources[worst_i].name
        others = rate(nt[nt.source != worst_i])
        lead = {"events": ["quote", "purchase"], "sources": srcs,
                "worst_source": worst if self.effects else None,
                "worst_multiplier": _r(pl.source_mult[worst_i]),
                "worst_relative_to_others_expected": _r(srcs[worst]["expected_rate"] / others[0]),
                "confounder": "call latency depends on lead source"}
        tq = q[q.in_test]
        ph, em = rate(tq[tq.arm_phone]), rate(tq[~tq.arm_phone])
        value = tq.premium.sum() / max(tq.n.sum(), 1)
        inc = (ph[0] - em[0]) * value * spec.gross_margin - (spec.cost_phone - spec.cost_email)
        test = {"campaign_code": spec.test_code, "period": [spec.test_start, spec.test_end],
                "events": ["test_assigned", "followup_call", "followup_email", "purchase"],
                "arms": {"phone": {"quotes": ph[2], "expected_rate": _r(ph[0]),
                                   "observed_rate": _r(ph[1]), "cost_per_contact": spec.cost_phone,
                                   "call_within_min": spec.test_call_max_min},
                         "email": {"quotes": em[2], "expected_rate": _r(em[0]),
                                   "observed_rate": _r(em[1]),
                                   "cost_per_contact": spec.cost_email}},
                "expected_lift": _r(ph[0] - em[0]), "value_per_conversion": _r(value),
                "gross_margin": spec.gross_margin,
                "expected_incremental_margin_per_contact": _r(inc),
                "winner": "phone" if inc > 0 else "email"}
        segs = {}
        for i, g in enumerate(spec.segments):
            e, o, n = rate(nt[nt.segment == i])
            segs[g.name] = {"share": g.share, "web_share": g.web_share, "premium": g.premium,
                            "conversion_multiplier": _r(pl.segment_mult[i]),
                            "quotes": n, "expected_rate": _r(e), "observed_rate": _r(o)}
        pay = pd.concat(self.aggs["pay"]).groupby("db").sum()
        buckets = {}
        for i, b in enumerate(DELAY_BUCKETS):
            row = pay.loc[i] if i in pay.index else None
            buckets[b] = None if row is None else {
                "payouts": int(row.n), "expected_complaint_rate": _r(row.complaint_p / row.n),
                "observed_complaint_rate": _r(row.complaint / row.n)}
        payment = {"events": ["payout_requested", "payout_paid", "complaint_opened"],
                   "window_days": 30,
                   "rule": "P(complaint within 30 days) = min(base + slope * delay_days, cap)",
                   "base": _r(pl.complaint_base), "slope_per_day": _r(pl.complaint_slope),
                   "cap": _r(pl.complaint_cap), "by_delay_days": buckets}
        return {"latency": lat_eff, "channel_switching": switch, "failing_step": fail,
                "lead_source": lead, "followup_test": test, "segments": segs,
                "payment_delay_complaints": payment,
                "repeat_purchases": {"model": "BG/NBD + Gamma-Gamma", "time_unit": "weeks",
                                     "bgnbd": dict(spec.bgnbd), "gamma_gamma": dict(
                                         spec.gamma_gamma),
                                     "note": "repeat orders only (first purchase = premium); "
                                             "at most 12 repeats per customer"},
                "pain_point": {"touchpoint": "complaint_call", "survey_touchpoints": list(
                    TOUCHPOINTS), "mean_score": 2.8, "median_duration_s": 840}}


def _counts(a: pa.Array) -> dict[str, int]:
    vc = pc.value_counts(a)
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))


def _identity(pid: np.ndarray, m: np.ndarray) -> tuple[int, dict[str, int], int]:
    """Persons appearing, persons per identifier type, and the connected components over
    identifiers co-occurring in a row (one node per pid x type; persons never share a node).

    Each person is reduced to the set of row masks it has (a 32-bit set over the 5-bit masks);
    a person's component count depends on that set only, so it is computed once per distinct
    set."""
    if not len(pid):
        return 0, dict.fromkeys(ID_BITS, 0), 0
    lo = int(pid.min())
    has = np.zeros((int(pid.max()) - lo + 1, 32), bool)
    has[pid - lo, m & 31] = True
    seen = has.any(axis=1)
    has = has[seen]
    per_id = {name: int(has[:, [x for x in range(32) if x & bit]].any(axis=1).sum())
              for name, bit in ID_BITS.items()}
    sets = np.packbits(has, axis=1, bitorder="little").view("<u4").ravel()
    uniq, count = np.unique(sets, return_counts=True)
    comps = np.array([_set_components(int(x)) for x in uniq], dtype=np.int64)
    return int(seen.sum()), per_id, int((comps * count).sum())


def _set_components(masks: int) -> int:
    """Connected components among the identifier types of the row masks in the set ``masks``
    (bit i set: some row has mask i); types joined when they share a row."""
    parent = list(range(5))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    present = 0
    for mk in range(1, 32):
        if masks >> mk & 1:
            present |= mk
            bits = [i for i in range(5) if mk >> i & 1]
            for b in bits[1:]:
                parent[root(b)] = root(bits[0])
    return len({root(i) for i in range(5) if present >> i & 1})


def write_truth(out_dir: Path, truth: dict[str, Any]) -> None:
    """Write truth.yml and TRUTH.md."""
    (out_dir / "truth.yml").write_text(
        yaml.safe_dump(truth, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    (out_dir / "TRUTH.md").write_text(truth_md(truth), encoding="utf-8")


def truth_md(t: dict[str, Any]) -> str:
    """The truth in plain words."""
    e = t["effects"]
    lat, sw, fs, ls, ft, pd_ = (e["latency"], e["channel_switching"], e["failing_step"],
                                e["lead_source"], e["followup_test"],
                                e["payment_delay_complaints"])
    lines = [
        f"# Truth of the sample client `{t['client']}`", "",
        f"Generated by cjlib.sample {t['generator']['version']} with seed {t['seed']}, "
        f"{t['customers']:,} simulated persons, effects {'ON' if t['effects_enabled'] else 'OFF'}; "
        f"data period {t['data_period']['start']} to {t['data_period']['end']}. "
        "Machine-readable twin: `truth.yml`.", "",
        "## Files", "",
        "| file | kind | rows | exact duplicates | broken | expected accepted |",
        "|---|---|---|---|---|---|",
    ]
    for name, f in t["files"].items():
        lines.append(f"| {name} | {f['kind']} | {f['rows']:,} | {f['duplicates']:,} | "
                     f"{f['broken_rows']} | {f['expected_accepted']:,} |")
    lines += ["", "Broken rows (row numbers as a person sees them: CSV/XLSX header is row 1):", ""]
    for f in t["files"].values():
        for b in f["broken"]:
            lines.append(f"- {b['file']} row {b['row']}, column {b['column']}: {b['reason']}")
    p = t["persons"]
    lines += ["", "## Persons", "",
              f"{p['appearing_in_exports']:,} persons appear in the exports "
              f"({p['anonymous_simulated']:,} of the simulated persons are anonymous web visitors "
              f"known by a cookie only). Perfect stitching gives "
              f"{p['expected_unified_customers']:,} unified customers. Persons per identifier: "
              + ", ".join(f"{k} {v:,}" for k, v in p["with_identifier"].items()) + ".", "",
              "## Events after removing duplicates and broken rows", ""]
    lines += [f"- {k}: {v:,}" for k, v in t["events"].items()]
    lines += ["", f"Total: {t['events_total']:,}.", "", "## Planted effects", "",
              f"- **Follow-up latency**: {lat['rule']}. Within a lead source and segment the "
              f"conversion ratio (<= 20 min vs after 60 min / never) is "
              f"{lat['ratio_within_20m']}; the raw expected ratio is "
              f"{lat['raw_expected_ratio_within_20m']} (base rate {lat['base_rate']}).",
              f"- **Channel switching** (web quote, then an inbound call within 3 days): "
              f"conversion ratio {sw['ratio']} (raw expected {sw['raw_expected_ratio']}).",
              f"- **Failing step** {fs['step']}: failure rate {fs['failure_rate']} "
              f"(observed {fs['observed_failure_rate']}); other steps fail at about "
              f"{fs['other_steps_failure_rate']}.",
              f"- **Lead source**: worst = {ls['worst_source']} with multiplier "
              f"{ls['worst_multiplier']}; expected conversion relative to the others "
              f"{ls['worst_relative_to_others_expected']}.",
              f"- **Follow-up test** {ft['campaign_code']} ({ft['period'][0]} to "
              f"{ft['period'][1]}): phone arm expected rate {ft['arms']['phone']['expected_rate']}"
              f" at {ft['arms']['phone']['cost_per_contact']} per contact, email arm "
              f"{ft['arms']['email']['expected_rate']} at "
              f"{ft['arms']['email']['cost_per_contact']}; value per conversion "
              f"{ft['value_per_conversion']}, gross margin {ft['gross_margin']}; expected "
              f"incremental margin per contact {ft['expected_incremental_margin_per_contact']}"
              f" (winner: {ft['winner']}).",
              f"- **Payout delay -> complaints**: {pd_['rule']} with base {pd_['base']}, "
              f"slope {pd_['slope_per_day']} per day, cap {pd_['cap']}.",
              f"- **Repeat purchases**: BG/NBD {e['repeat_purchases']['bgnbd']} (weeks), "
              f"Gamma-Gamma {e['repeat_purchases']['gamma_gamma']}.",
              "- **Pain point**: complaint-handling calls (many, long, survey score about 3).",
              "", "## Canaries", ""]
    lines += [f"- {c}" for c in t["canaries"]]
    return "\n".join(lines) + "\n"
