"""Measuring one entry: warm-up, check the answer, then timed runs; in a fresh subprocess so
its peak resident set size is its own, with a time limit and a memory guard."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import psutil

from cjlib.bench.answers import compare, from_json, to_json
from cjlib.bench.data import Dataset
from cjlib.bench.registry import ANALYSES, ENTRIES, Entry, load

STATUSES = ("ok", "pending", "unavailable", "mismatch", "error", "timeout", "killed")


@dataclass
class Measurement:
    """What one engine did on one analysis at one size."""

    analysis: str
    engine: str
    size: str
    status: str
    detail: str = ""
    times: list[float] = field(default_factory=list)  # wall seconds of each timed run
    cpu: list[float] = field(default_factory=list)  # CPU seconds (all threads) of each run
    warmup_s: list[float] = field(default_factory=list)
    peak_rss: int | None = None  # bytes: the subprocess's peak resident set size
    base_rss: int | None = None  # bytes: after imports, before the first run
    spill: int | None = None  # bytes: most DuckDB temporary files seen next to the databases
    answer: dict[str, Any] | None = None
    checked_against: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.times)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["spill"] is None:  # set by the watching parent only
            del out["spill"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def run_entry(
    entry: Entry,
    ds: Dataset,
    *,
    warmups: int,
    reps: int,
    budget_s: float,
    expected: dict[str, Any] | None = None,
    expected_engine: str | None = None,
    size: str = "",
) -> Measurement:
    """Run `entry` in this process: warm-ups (the first run's answer is checked against the
    reference before anything is timed), then up to `reps` timed runs within `budget_s`."""
    process = psutil.Process()
    base_rss = process.memory_info().rss
    key = ANALYSES[entry.analysis].key if entry.analysis in ANALYSES else ()
    result = Measurement(entry.analysis, entry.engine, size, "ok", base_rss=base_rss,
                         checked_against=expected_engine if expected is not None else None)
    checked = False

    def check(answer: Any) -> bool:
        nonlocal checked
        checked = True
        result.answer = to_json(answer)
        if expected is None:
            return True
        problem = compare(answer, from_json(expected), key)
        if problem:
            result.status, result.detail = "mismatch", problem
            return False
        return True

    for _ in range(warmups):
        started = time.perf_counter()
        answer = entry.fn(ds)
        result.warmup_s.append(time.perf_counter() - started)
        if not checked and not check(answer):
            return _finish(result)
    spent = 0.0
    for _ in range(max(1, reps)):
        started, cpu0 = time.perf_counter(), time.process_time()
        answer = entry.fn(ds)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        if not checked and not check(answer):
            return _finish(result)
        result.times.append(wall)
        result.cpu.append(cpu)
        spent += wall
        if spent + wall > budget_s:
            break
    return _finish(result)


def _finish(result: Measurement) -> Measurement:
    result.peak_rss = peak_rss()
    if result.status != "ok":
        result.times, result.cpu = [], []
    return result


def peak_rss() -> int:
    """This process's peak resident set size in bytes: VmHWM, which starts afresh at exec (unlike
    ru_maxrss, which Linux carries over from the parent that forked the subprocess)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(
    entry: Entry,
    ds: Dataset,
    *,
    size: str,
    warmups: int,
    reps: int,
    budget_s: float,
    timeout_s: float,
    max_rss: int,
    expected: dict[str, Any] | None = None,
    expected_engine: str | None = None,
    isolate: bool = True,
    log_dir: Path | None = None,
) -> Measurement:
    """Measure one entry, in a subprocess (isolate=True: its own peak RSS, a time limit and a
    memory guard) or in this process (isolate=False: quick checks; no memory figure)."""
    args = {"warmups": warmups, "reps": reps, "budget_s": budget_s, "expected": expected,
            "expected_engine": expected_engine, "size": size}
    if not isolate:
        try:
            result = run_entry(entry, ds, **args)
        except Exception as exc:
            return Measurement(entry.analysis, entry.engine, size, "error",
                               f"{exc.__class__.__name__}: {exc}")
        result.peak_rss = result.base_rss = None
        return result
    spec = {"analysis": entry.analysis, "engine": entry.engine, "dataset": ds.as_dict(), **args}
    with tempfile.TemporaryDirectory(prefix="cjbench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        log_path = (log_dir or Path(tmp)) / f"{size}-{entry.analysis}-{entry.engine}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "RETENTIONEERING_NO_TRACK": "1", "PYTHONUNBUFFERED": "1"}
        with open(log_path, "w", encoding="utf-8") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "cjlib.bench.child", str(spec_path), str(out_path)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
            status, watched_peak, spill = _watch(child, timeout_s, max_rss,
                                                 [ds.workspace, ds.scratch])
        if status == "ok" and out_path.is_file():
            result = Measurement.from_dict(json.loads(out_path.read_text(encoding="utf-8")))
            result.spill = spill
            return result
        tail = _tail(log_path)
        if status == "timeout":
            detail = f"stopped after {timeout_s:.0f} s"
        elif status == "killed":
            detail = (f"stopped at {watched_peak / 2**30:.1f} GiB resident "
                      f"(guard {max_rss / 2**30:.1f} GiB)")
        else:
            status, detail = "error", tail or f"exit status {child.returncode}"
        return Measurement(entry.analysis, entry.engine, size, status, detail,
                           peak_rss=watched_peak or None, spill=spill)


def _watch(
    child: subprocess.Popen, timeout_s: float, max_rss: int, spill_roots: list[Path]
) -> tuple[str, int, int]:
    """Wait for the child, sampling its resident set size (every 50 ms) and DuckDB's temporary
    files (every 0.5 s); stop it on time or memory limits. -> (status, peak RSS, peak spill)."""
    started, peak, spill, tick = time.monotonic(), 0, 0, 0
    proc = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        if tick % 10 == 0:
            spill = max(spill, _spilled(spill_roots))
        tick += 1
        if rss > max_rss or time.monotonic() - started > timeout_s:
            child.kill()
            child.wait()
            return ("killed" if rss > max_rss else "timeout"), peak, spill
        time.sleep(0.05)
    return ("ok" if child.returncode == 0 else "error"), peak, spill


def _spilled(roots: list[Path]) -> int:
    """Bytes in DuckDB temporary directories (`<database>.tmp`) directly under `roots`."""
    total = 0
    for root in roots:
        try:
            folders = [e.path for e in os.scandir(root) if e.is_dir() and e.name.endswith(".tmp")]
        except OSError:
            continue
        for folder in folders:
            for dirpath, _, files in os.walk(folder):
                for name in files:
                    with contextlib.suppress(OSError):
                        total += os.path.getsize(os.path.join(dirpath, name))
    return total


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def child_main(spec_path: str, out_path: str) -> None:
    """The measuring subprocess: run one entry as the spec says and write the Measurement."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    load()
    entry = ENTRIES[(spec["analysis"], spec["engine"])]
    ds = Dataset.from_dict(spec["dataset"])
    try:
        result = run_entry(entry, ds, warmups=spec["warmups"], reps=spec["reps"],
                           budget_s=spec["budget_s"], expected=spec["expected"],
                           expected_engine=spec["expected_engine"], size=spec["size"])
    except Exception as exc:
        import traceback

        traceback.print_exc()
        result = Measurement(entry.analysis, entry.engine, spec["size"], "error",
                             f"{exc.__class__.__name__}: {exc}")
    Path(out_path).write_text(json.dumps(result.to_dict()), encoding="utf-8")
