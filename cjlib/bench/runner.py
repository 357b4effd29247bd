"""A benchmark run: for each size, make (or reuse) the data, then measure every registered entry,
cjlib first (its answer is the reference the peers must reproduce before they are timed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cjlib.bench import data, machine
from cjlib.bench.measure import Measurement, measure
from cjlib.bench.registry import Entry, analyses, entries_for, load, missing
from cjlib.bench.sizes import Size

DEFAULT_MAX_RSS = 8 * 2**30
REFERENCE_ORDER = ("cjlib", "pandas", "polars", "chdb", "retentioneering", "duckdb")


@dataclass
class BenchRun:
    """Everything one run measured (serialised to JSON next to results.md's cache)."""

    command: str
    started: str
    sizes: list[str]
    machine: dict[str, Any]
    load_before: list[float]
    finished: str = ""
    load_after: list[float] = field(default_factory=list)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    isolated: bool = True
    max_rss: int = DEFAULT_MAX_RSS
    parts: list[dict[str, Any]] = field(default_factory=list)  # one per invocation (--append)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["measurements"] = [m.to_dict() for m in self.measurements]
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BenchRun:
        raw = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        raw["measurements"] = [Measurement.from_dict(m) for m in raw["measurements"]]
        return cls(**raw)

    def part(self) -> dict[str, Any]:
        """This invocation: command, sizes, times and load."""
        return {"command": self.command, "sizes": list(self.sizes), "started": self.started,
                "finished": self.finished, "load_before": self.load_before,
                "load_after": self.load_after}

    def find(self, size: str, analysis: str, engine: str) -> Measurement | None:
        for m in self.measurements:
            if (m.size, m.analysis, m.engine) == (size, analysis, engine):
                return m
        return None


def run_bench(
    sizes: list[Size],
    *,
    cache: Path | None = None,
    out: Path | None = None,
    only: set[str] | None = None,
    engines: set[str] | None = None,
    isolate: bool = True,
    max_rss: int = DEFAULT_MAX_RSS,
    command: str = "cj bench",
    append: bool = False,
    log: Callable[[str], None] = print,
) -> BenchRun:
    """Measure every selected analysis x engine at every size; write results.md to `out`.

    append=True keeps the last run's measurements of the other sizes and analyses (a long ladder
    measured in several invocations, or one analysis measured again); results.md then says which
    invocation measured what."""
    from cjlib.bench.report import write_report

    load()
    cache = cache or data.default_cache()
    run = BenchRun(command=command, started=_now(), sizes=[s.name for s in sizes],
                   machine=machine.describe(), load_before=machine.load_average(),
                   isolated=isolate, max_rss=max_rss)
    earlier = _earlier(cache, run) if append else None
    selected = [a for a in analyses() if only is None or a.name in only]
    logs = cache / "logs"
    for size in sizes:
        ds = data.Dataset(size.name, cache / size.name)
        generated = data.ensure_sample(ds, size, log)
        if any(a.name == "ingest" for a in selected):
            data.prepare_scratch(ds)
        info: dict[str, Any] = {"customers_simulated": size.customers,
                                "generation_s": generated,
                                "generation_cached_s": data.generation_seconds(ds)}
        for item in selected:
            if item.name == "ingest":
                _measure_analysis(run, item.name, ds, size, engines, isolate, max_rss, logs, log)
                if not data.warehouse_is_current(ds) and data.adopt_scratch_warehouse(ds):
                    log(f"[{size.name}] the timed ingest's warehouse is now the cached one")
            else:
                data.ensure_warehouse(ds, log)
                data.ensure_parquet(ds, log)
                _measure_analysis(run, item.name, ds, size, engines, isolate, max_rss, logs, log)
            _save(_merge(earlier, run) if earlier else run, cache, out)
        data.ensure_warehouse(ds, log)
        info.update(data.describe(ds))
        run.datasets[size.name] = info
        _save(_merge(earlier, run) if earlier else run, cache, out)
    run.finished, run.load_after = _now(), machine.load_average()
    if earlier is not None:
        run = _merge(earlier, run)
    _save(run, cache, out)
    if out is not None:
        write_report(run, out)
    return run


def _earlier(cache: Path, run: BenchRun) -> BenchRun | None:
    saved = cache / "last-run.json"
    if not saved.is_file():
        return None
    return BenchRun.from_dict(json.loads(saved.read_text(encoding="utf-8")))


def _merge(earlier: BenchRun, run: BenchRun) -> BenchRun:
    """The earlier run's measurements except the (size, analysis) pairs this run measured again,
    then this run's; each invocation is named with what it measured."""
    again = {(m.size, m.analysis) for m in run.measurements}
    kept = [m for m in earlier.measurements if (m.size, m.analysis) not in again]
    still = {m.size for m in kept}
    parts = earlier.parts or [earlier.part()]
    parts = [{**p, "sizes": [s for s in p["sizes"] if s in still]} for p in parts]
    return BenchRun(
        command=run.command, started=earlier.started, finished=run.finished,
        sizes=earlier.sizes + [s for s in run.sizes if s not in earlier.sizes],
        machine=run.machine, load_before=earlier.load_before, load_after=run.load_after,
        datasets={**earlier.datasets, **run.datasets},
        measurements=kept + run.measurements,
        isolated=run.isolated and earlier.isolated, max_rss=run.max_rss,
        parts=[p for p in parts if p["sizes"]] + [run.part()],
    )


def _measure_analysis(
    run: BenchRun,
    name: str,
    ds: data.Dataset,
    size: Size,
    engines: set[str] | None,
    isolate: bool,
    max_rss: int,
    logs: Path,
    log: Callable[[str], None],
) -> None:
    """cjlib (or the first engine that answers) is the reference; the floor is never compared."""
    reference: Measurement | None = None
    todo = sorted(entries_for(name), key=lambda e: _rank(e))
    for entry in todo:
        if engines is not None and entry.engine not in engines and entry.engine != "floor":
            continue
        m = _measure_entry(entry, ds, size, reference, isolate, max_rss, logs)
        run.measurements.append(m)
        log(_line(m))
        if reference is None and entry.engine != "floor" and m.ok and m.answer is not None:
            reference = m


def _rank(entry: Entry) -> int:
    if entry.engine in REFERENCE_ORDER:
        return REFERENCE_ORDER.index(entry.engine) * 2
    return 1  # the floor straight after cjlib


def _measure_entry(
    entry: Entry,
    ds: data.Dataset,
    size: Size,
    reference: Measurement | None,
    isolate: bool,
    max_rss: int,
    logs: Path,
) -> Measurement:
    problem = missing(entry)
    if problem:
        status = "pending" if entry.engine == "cjlib" else "unavailable"
        return Measurement(entry.analysis, entry.engine, size.name, status, problem)
    ingest = entry.analysis == "ingest"
    compare_to = reference if entry.engine != "floor" else None
    return measure(
        entry, ds, size=size.name,
        warmups=size.ingest_warmups if ingest else size.warmups,
        reps=size.ingest_reps if ingest else size.reps,
        budget_s=size.budget_s if not ingest else size.ingest_timeout_s,
        timeout_s=size.ingest_timeout_s if ingest else size.timeout_s, max_rss=max_rss,
        expected=compare_to.answer if compare_to else None,
        expected_engine=compare_to.engine if compare_to else None,
        isolate=isolate, log_dir=logs,
    )


def _line(m: Measurement) -> str:
    head = f"[{m.size}] {m.analysis:<13} {m.engine:<16}"
    if m.ok:
        rss = f"{m.peak_rss / 2**20:,.0f} MiB" if m.peak_rss else "-"
        return f"{head} {m.median:9.3f} s  (n={len(m.times)}, peak RSS {rss})"
    return f"{head} {m.status}: {m.detail[:160]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _save(run: BenchRun, cache: Path, out: Path | None) -> None:
    """The raw measurements and results.md, after every analysis (a long run that is stopped
    keeps what it measured)."""
    from cjlib.bench.report import write_report

    cache.mkdir(parents=True, exist_ok=True)
    (cache / "last-run.json").write_text(json.dumps(run.to_dict(), indent=1, default=str),
                                          encoding="utf-8")
    if out is not None:
        write_report(run, out)
