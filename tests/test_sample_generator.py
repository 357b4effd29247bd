"""The sample-client generator: determinism, bookkeeping, planted effects, committed size."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from cjlib.sample import SAMPLE_CLIENTS, fmt, write_sample
from cjlib.sample.generate import _Job, _Worker
from cjlib.sample.render import _repeated
from cjlib.sample.simulate import canonical_events, simulate_chunk
from cjlib.sample.truth import _identity

ROOT = Path(__file__).resolve().parents[1]
SMALL = 1500


def _files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file()}


def _read(path: Path, src: dict) -> pd.DataFrame:
    """Read an export back as text, one frame row per physical data row."""
    fmt = src["read"]["format"]
    if fmt == "parquet":
        return pq.read_table(path).to_pandas().astype(str)
    if fmt == "jsonl":
        return pd.DataFrame([json.loads(x) for x in path.read_text("utf-8").splitlines()
                             if x.strip()]).astype(str)
    if fmt == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
    enc = src["read"].get("encoding", "utf-8")
    text = path.read_bytes().decode("utf-8-sig" if enc == "utf-8" else enc)
    lines = text.splitlines()
    header = lines[0].split(src["read"]["delimiter"])
    return pd.DataFrame({"line": lines[1:]}).assign(ncols=len(header))


@pytest.fixture(scope="module", params=sorted(SAMPLE_CLIENTS))
def sample(request, tmp_path_factory) -> Path:
    return write_sample(request.param, tmp_path_factory.mktemp(request.param), customers=SMALL)


def test_deterministic(tmp_path: Path) -> None:
    for c in SAMPLE_CLIENTS:
        a = write_sample(c, tmp_path / "a" / c, customers=SMALL, seed=7)
        b = write_sample(c, tmp_path / "b" / c, customers=SMALL, seed=7)
        assert _files(a) == _files(b)
    other = write_sample("acme-motor", tmp_path / "c", customers=SMALL, seed=8)
    assert _files(other)["raw/quotes.csv"] != _files(tmp_path / "a" / "acme-motor")[
        "raw/quotes.csv"]


def test_effect_free_variant_same_shape(tmp_path: Path) -> None:
    for c in SAMPLE_CLIENTS:
        on = write_sample(c, tmp_path / "on" / c, customers=SMALL)
        off = write_sample(c, tmp_path / "off" / c, customers=SMALL, effects=False)
        assert set(_files(on)) == set(_files(off))
        yon = yaml.safe_load((on / "client.yml").read_text("utf-8"))
        yoff = yaml.safe_load((off / "client.yml").read_text("utf-8"))
        assert [s["name"] for s in yon["sources"]] == [s["name"] for s in yoff["sources"]]
        for src in yon["sources"]:
            f = on / src["files"]
            assert list(_read(f, src).columns) == list(_read(off / src["files"], src).columns)
        t = yaml.safe_load((off / "truth.yml").read_text("utf-8"))
        e = t["effects"]
        assert t["effects_enabled"] is False
        assert e["latency"]["ratio_within_20m"] == 1.0
        assert e["channel_switching"]["ratio"] == 1.0
        assert e["lead_source"]["worst_multiplier"] == 1.0
        assert e["payment_delay_complaints"]["slope_per_day"] == 0.0
        assert e["followup_test"]["expected_lift"] == 0.0


def test_truth_counts_match_files(sample: Path) -> None:
    cfg = yaml.safe_load((sample / "client.yml").read_text("utf-8"))
    truth = yaml.safe_load((sample / "truth.yml").read_text("utf-8"))
    for src in cfg["sources"]:
        name = Path(src["files"]).name
        t = truth["files"][name]
        df = _read(sample / src["files"], src)
        assert len(df) == t["rows"], name
        assert t["expected_accepted"] == t["rows"] - t["duplicates"] - t["broken_rows"]
        assert t["duplicates"] > 0 and t["broken_rows"] < 0.01 * t["rows"] + 12
        if src["read"]["format"] == "csv":
            assert int(df.line.duplicated().sum()) == t["duplicates"], name
        else:
            assert int(df.duplicated().sum()) == t["duplicates"], name
        first = 1 if src["read"]["format"] in ("jsonl", "parquet") else 2
        for b in t["broken"]:
            assert first <= b["row"] < t["rows"] + first
    assert truth["persons"]["expected_unified_customers"] == truth["persons"]["simulated"]
    assert truth["canaries"]


def test_broken_rows_are_where_truth_says(sample: Path) -> None:
    cfg = yaml.safe_load((sample / "client.yml").read_text("utf-8"))
    truth = yaml.safe_load((sample / "truth.yml").read_text("utf-8"))
    for src in cfg["sources"]:
        if src["read"]["format"] != "csv":
            continue
        name = Path(src["files"]).name
        df = _read(sample / src["files"], src)
        for b in truth["files"][name]["broken"]:
            line = df.line.iloc[b["row"] - 2]
            if b["reason"] == "formula":
                assert "=cmd|" in line
            elif b["reason"] == "bad_phone":
                assert "12345" in line
            elif b["reason"] == "malformed_line":
                assert b["row"] == len(df) + 1


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**31), n=st.integers(300, 1200))
def test_bookkeeping_any_seed(tmp_path_factory, seed: int, n: int) -> None:
    d = write_sample("brightside-energy", tmp_path_factory.mktemp("h"), seed=seed, customers=n)
    truth = yaml.safe_load((d / "truth.yml").read_text("utf-8"))
    cfg = yaml.safe_load((d / "client.yml").read_text("utf-8"))
    w = simulate_chunk(SAMPLE_CLIENTS["brightside-energy"], seed, 0, n, 0, True)
    ev = canonical_events(w).event.value_counts().to_dict()
    for src in cfg["sources"]:
        name = Path(src["files"]).name
        t = truth["files"][name]
        assert len(_read(d / src["files"], src)) == t["rows"]
        rows = [b["row"] for b in t["broken"]]
        assert len(set(rows)) == len(rows)
    # accepted rows reproduce the simulated events exactly (no accidental duplicates here)
    assert truth["events"] == {k: int(v) for k, v in sorted(ev.items())}


def test_planted_effects_visible_in_simulated_truth() -> None:
    spec = SAMPLE_CLIENTS["acme-motor"]
    w = simulate_chunk(spec, 11, 0, 60_000, 0, True)
    ev = canonical_events(w)
    q = ev[ev.event == "quote"][["pid", "ts"]].rename(columns={"ts": "q_ts"})
    calls = ev[ev.event == "followup_call"].groupby("pid").ts.min().rename("call_ts")
    buy = ev[ev.event == "purchase"].groupby("pid").ts.min().rename("buy_ts")
    d = q.join(calls, on="pid").join(buy, on="pid")
    d["conv"] = (d.buy_ts - d.q_ts).between(0, 30 * 86400)
    lat = (d.call_ts - d.q_ts) / 60
    rate_fast = d.conv[lat <= 20].mean()
    rate_ref = d.conv[(lat >= 60) | lat.isna()].mean()
    assert 1.8 < rate_fast / rate_ref < 3.2  # raw ratio (stratified truth: exactly 2.0)
    # stratified by lead source: close to 2
    qq = w["quotes"][~w["quotes"].in_test]
    ll = qq.lat_min.fillna(1e9)
    ratios = [g.converted[ll[g.index] <= 20].mean()
              / g.converted[ll[g.index] >= 60].mean() for _, g in qq.groupby("source")]
    assert 1.6 < float(np.median(ratios)) < 2.5
    web = ev[ev.event.isin(["id_check_started", "id_check_completed"])].event.value_counts()
    assert 0.85 < 1 - web["id_check_completed"] / web["id_check_started"] < 0.95
    p = w["payouts"]
    assert p.complaint[p.delay_days >= 10].mean() > 3 * p.complaint[p.delay_days <= 2].mean()


def test_effect_free_variant_is_flat(tmp_path: Path) -> None:
    d = write_sample("acme-motor", tmp_path / "x", effects=False, seed=3)
    t = yaml.safe_load((d / "truth.yml").read_text("utf-8"))
    srcs = t["effects"]["lead_source"]["sources"]
    assert {v["multiplier"] for v in srcs.values()} == {1.0}


def test_committed_sample_small_and_complete() -> None:
    root = ROOT / "data" / "sample"
    if not any(root.glob("*/truth.yml")):
        pytest.skip("data/sample not generated yet")
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024
    for c in SAMPLE_CLIENTS:
        assert (root / c / "client.yml").is_file() and (root / c / "TRUTH.md").is_file()
    assert any((root / "acme-motor" / "raw").glob("*.xlsx"))


def test_parallel_output_is_serial_output(tmp_path: Path) -> None:
    """Worker processes never change the data: same bytes (exports and truth) as one process,
    with several chunks (small chunks so the test stays fast; XLSX included)."""
    for c in SAMPLE_CLIENTS:
        for workers in (1, 2):
            seen: list[tuple[int, int]] = []
            write_sample(c, tmp_path / str(workers) / c, customers=1300, seed=3, chunk_size=400,
                         workers=workers, progress=lambda d, n, s=seen: s.append((d, n)))
            assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
        assert _files(tmp_path / "1" / c) == _files(tmp_path / "2" / c)
        assert not [p for p in (tmp_path / "2" / c).iterdir() if p.name.startswith(".chunks-")]
    assert (tmp_path / "2" / "acme-motor" / "raw" / "calls.xlsx").is_file()


def test_worker_error_is_raised() -> None:
    worker = _Worker()
    try:
        worker.send(_Job("no-such-client", 1, 10, True, 10), 0, Path("."))
        with pytest.raises(RuntimeError, match="no-such-client"):
            worker.receive()
    finally:
        worker.stop()
    assert worker.proc.returncode == 0


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    root = ROOT / "data" / "sample"
    if not any(root.glob("*/truth.yml")):
        pytest.skip("data/sample not generated yet")
    for c in SAMPLE_CLIENTS:
        fresh = _files(write_sample(c, tmp_path / c))
        assert fresh == {k: (root / c / k).read_bytes() for k in fresh}, c


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-1, 2**32), min_size=0, max_size=200),
       st.sampled_from(["UTC", "Europe/London", "Europe/Amsterdam", "America/New_York"]),
       st.sampled_from(["%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                        "%Y-%m-%dT%H:%M:%S%z", "%z|%Y", "%H%M%S %d.%m.%Y"]))
@example(sec=[2_909_372_400], tz="America/New_York", f="%d/%m/%Y %H:%M")  # a DST change in 2062
def test_ts_matches_strftime(sec: list[int], tz: str, f: str) -> None:
    """The fast formatter against plain Python (zoneinfo + strftime). Not against Arrow's
    strftime: past 2037 it gives the skipped local hour at a DST change (12/03/2062 02:00 in New
    York for 07:00 UTC, where zoneinfo and the formatter say 03:00 EDT)."""
    a = np.array(sec, dtype=np.int64)
    assert fmt.ts(a, f, tz).to_pylist() == [_strftime(x, f, tz) for x in sec]


def _strftime(sec: int, f: str, tz: str) -> str:
    if sec < 0:
        return ""
    text = datetime.fromtimestamp(sec, ZoneInfo(tz)).strftime(f)
    return text[:-2] + ":" + text[-2:] if f.endswith("%z") else text


def test_ts_around_dst_changes() -> None:
    for tz in ("Europe/London", "Europe/Amsterdam"):
        hours = pd.date_range("2023-12-31", "2032-01-02", freq="h", tz=tz).asi8 // 10**9
        a = np.concatenate([hours - 1, hours, hours + 1, hours + 1799])
        for f in ("%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"):
            assert fmt.ts(a, f, tz).to_pylist() == fmt._ts_arrow(a, f, tz).to_pylist()


@given(st.lists(st.integers(0, 10**13), max_size=100), st.integers(1, 12))
def test_zpad_and_text_of_numbers(v: list[int], width: int) -> None:
    a = np.array(v, dtype=np.int64)
    assert fmt.zpad(a, width).to_pylist() == [str(x).zfill(width) for x in v]
    assert fmt.s(a).to_pylist() == [str(x) for x in v]
    f = np.array(v, dtype=float) / 100
    assert fmt.s(f).to_pylist() == [str(x) for x in f.tolist()]


@given(st.lists(st.sampled_from(["a", "b", "", "a,b", "é", "ab"]), max_size=60))
def test_repeated_is_exact(values: list[str]) -> None:
    expected = pd.Series(values, dtype=object).duplicated().tolist()
    assert _repeated(pa.array(values, pa.large_string())).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 31)), max_size=120))
def test_identity_counts(rows: list[tuple[int, int]]) -> None:
    """Persons, persons per identifier and connected components (one node per person x
    identifier type, joined when they share a row) against a plain union-find."""
    pid = np.array([p for p, _ in rows], dtype=np.int64) + 1000
    m = np.array([x for _, x in rows], dtype=np.int64)
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def root(x: tuple[int, int]) -> tuple[int, int]:
        while parent[x] != x:
            x = parent[x]
        return x

    for p, x in rows:
        nodes = [(p, b) for b in range(5) if x >> b & 1]
        for node in nodes:
            parent.setdefault(node, node)
        for node in nodes[1:]:
            parent[root(node)] = root(nodes[0])
    names = ["cookie_id", "email", "phone", "crm_id", "account_no"]
    per_id = {n: len({p for p, x in rows if x >> b & 1}) for b, n in enumerate(names)}
    expected = (len({p for p, _ in rows}), per_id, len({root(n) for n in parent}))
    assert _identity(pid, m) == expected
