"""bench/results.md: machine, versions, sizes, median times, ratios to the floor and to the
peers, peak memory, the targets met or missed, and what is pending. Written from a BenchRun
only: every number in it was measured by the run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cjlib.bench.measure import Measurement
from cjlib.bench.registry import ANALYSES, ENTRIES, PEERS, analyses

if TYPE_CHECKING:
    from cjlib.bench.runner import BenchRun

GIB = 2**30
MIB = 2**20
MEMORY_TARGET = 4 * GIB
FLOOR_FACTOR = 3.0
INGEST_TARGET = 1_000_000  # rows per second


def write_report(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(run), encoding="utf-8")


def render(run: BenchRun) -> str:
    parts = [
        _header(run), _machine(run), _data(run), _method(run), _targets(run),
        *[_analysis(run, a.name) for a in analyses() if _measured(run, a.name)],
        _pending(run), _semantics(run),
    ]
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def _measured(run: BenchRun, name: str) -> bool:
    return any(m.analysis == name for m in run.measurements)


def _header(run: BenchRun) -> str:
    state = f"finished {run.finished}" if run.finished else "**still running** (partial)"
    text = (
        "# cjkit benchmarks\n\n"
        f"Written by `{run.command}` (`make bench`), started {run.started}, {state}. Every "
        "number below was measured by the benchmark, never typed in; regenerate with "
        f"`make bench` (sizes here: {', '.join(run.sizes)}). Do not edit by hand."
    )
    if run.finished:
        text += "\n\n" + _duration(run)
    if len(run.parts) > 1:
        text += "\n\nMeasured in several invocations:\n\n" + \
            "\n".join(f"- `{p['command']}`: {', '.join(p['sizes'])}, {p['started']} to "
                      f"{p['finished']}, load average before {p['load_before']}, after "
                      f"{p['load_after']}" for p in run.parts)
    return text


def _duration(run: BenchRun) -> str:
    """How long each invocation took, and what a fresh machine adds: generating the samples
    this run found cached (their recorded generation time)."""
    lines = []
    for p in run.parts or [run.part()]:
        if p.get("finished"):
            took = (datetime.fromisoformat(p["finished"])
                    - datetime.fromisoformat(p["started"])).total_seconds()
            lines.append(f"- `{p['command']}` ({', '.join(p['sizes'])}): {took / 60:.1f} min")
    text = "Run time (target for the full ladder, `make bench`: within an hour):\n\n"
    text += "\n".join(lines)
    cached = sum(d.get("generation_cached_s") or 0 for d in run.datasets.values()
                 if d.get("generation_s") is None)
    if cached:
        text += (f"\n\nGenerating the samples this run found cached, as on a fresh machine, "
                 f"adds about {cached / 60:.1f} min (their recorded generation time).")
    return text


def _machine(run: BenchRun) -> str:
    m = run.machine
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    settings = ", ".join(f"{k}={v}" for k, v in m["duckdb_settings"].items())
    return "\n".join([
        "## Machine", "",
        "| | |", "|---|---|",
        f"| CPU | {m['cpu']} |",
        f"| cores | {m['logical_cpus']} logical ({m['physical_cpus']} physical) |",
        f"| memory | {m['memory_bytes'] / GIB:.1f} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| load average (1, 5, 15 min) | before {run.load_before}, after {run.load_after} |",
        f"| versions | {versions} |",
        f"| DuckDB (cjlib.db.connect) | {settings} |",
        "",
        "The machine is shared: the load average says how much else was running. CPU seconds "
        "are given beside wall seconds for that reason.",
    ])


def _data(run: BenchRun) -> str:
    rows = ["## Data", "",
            "The acme-motor sample client (cjlib.sample) generated at each size and cached under "
            "bench/cache/ (git-ignored); the peers read the warehouse's events exported to "
            "Parquet (zstd).", "",
            "| size | customers | events | raw rows | raw files | warehouse | events.parquet | "
            "generation |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size in run.sizes:
        d = run.datasets.get(size)
        if not d:
            continue
        gen = _generation(d)
        rows.append(
            f"| {size} | {d['customers']:,} | {d['events']:,} | {d['raw_rows']:,} | "
            f"{d['raw_bytes'] / MIB:,.0f} MiB | {d['warehouse_bytes'] / MIB:,.0f} MiB | "
            f"{d['parquet_bytes'] / MIB:,.0f} MiB | {gen} |"
        )
    return "\n".join(rows)


def _method(run: BenchRun) -> str:
    where = ("its own subprocess" if run.isolated
             else "the benchmark's own process (no memory figures)")
    return "\n".join([
        "## Method", "",
        f"- Each entry runs in {where}, as a whole operation: open the warehouse or read the "
        "Parquet file from disk, compute, return the answer.",
        "- Warm-up run(s) first; the first answer is checked against the reference (cjlib's "
        "answer, or the first engine that answered when cjlib's is pending) and a peer that "
        "disagrees is reported, not timed. Then timed runs; the median is shown with n and "
        "the range. Slow entries get fewer runs (a time budget per entry).",
        "- Peak RSS: the subprocess's peak resident set size (VmHWM), interpreter and "
        "imported libraries included; DuckDB's temporary files (spilling) are watched and shown "
        "when there were any; the memory guard stops a subprocess past "
        f"{run.max_rss / GIB:.0f} GiB.",
        "- Floor: a bare DuckDB aggregate scan of the columns the analysis needs, from the same "
        "warehouse table opened the same way (`count(*)` and `bit_xor(hash(col))` of each "
        "column, which reads every value: `min()`/`count()` of a whole column are answered from "
        "DuckDB's column statistics without a scan); × floor = median / floor median, CPU × "
        "floor the same in CPU seconds. For ingest, the floor is DuckDB reading the same raw "
        "files as text.",
        "- Peers / cjlib = how many times longer the peer took than cjlib (> 1: cjlib faster). "
        "The peers are pandas, polars, chdb and retentioneering; `duckdb` is the same answer in "
        "hand-written DuckDB SQL over the same warehouse (what cjlib's own query could reach), "
        "shown for comparison and not part of the targets.",
    ])


def _targets(run: BenchRun) -> str:
    if not run.measurements:
        return ""
    size = _largest(run)
    rows = ["## Targets", "",
            f"At the largest size measured ({size}): funnel, latency effect and paths within "
            f"{FLOOR_FACTOR:g}x the floor and faster than every peer; ingest at least "
            f"{INGEST_TARGET:,} rows/s; cjlib's peak memory under 4 GiB.", "",
            "| target | measured | |", "|---|---|---|"]
    for item in analyses():
        if not item.target or not _measured(run, item.name):
            continue
        cj = run.find(size, item.name, "cjlib")
        floor = run.find(size, item.name, "floor")
        if cj is None or not cj.ok:
            status = cj.status if cj else "not run"
            rows.append(f"| {item.title}: ≤ {FLOOR_FACTOR:g}x floor | cjlib {status} | pending |")
            continue
        if floor is not None and floor.ok:
            ratio = cj.median / floor.median
            cpu = (f"; CPU {_ratio(cj.cpu_median / floor.cpu_median)}"
                   if cj.cpu_median and floor.cpu_median else "")
            rows.append(f"| {item.title}: ≤ {FLOOR_FACTOR:g}x floor | {_ratio(ratio)} "
                        f"({cj.median:.2f} s vs {floor.median:.3f} s{cpu}) | "
                        f"{'met' if ratio <= FLOOR_FACTOR else '**missed**'} |")
        peers = [run.find(size, item.name, p) for p in PEERS]
        timed = [p for p in peers if p is not None and p.ok]
        untimed = [p for p in peers if p is not None and not p.ok and p.status != "unavailable"]
        if timed:
            slower = [p for p in timed if p.median <= cj.median]
            text = ", ".join(f"{p.engine} {_ratio(p.median / cj.median)}" for p in timed)
            verdict = "met" if not slower else "**missed**"
            if untimed:
                text += "; not timed: " + ", ".join(f"{p.engine} ({p.status})" for p in untimed)
                verdict += f" (against the {len(timed)} timed)" if not slower else ""
            rows.append(f"| {item.title}: faster than every peer | peer/cjlib: {text} | "
                        f"{verdict} |")
    ingest = run.find(size, "ingest", "cjlib")
    rows_read = _ingest_rows(ingest)
    if ingest is not None and ingest.ok and rows_read:
        rate = rows_read / ingest.median
        rows.append(f"| Ingest: ≥ {INGEST_TARGET:,} rows/s | {rate:,.0f} rows/s "
                    f"({rows_read:,} rows in {ingest.median:,.1f} s) | "
                    f"{'met' if rate >= INGEST_TARGET else '**missed**'} |")
    cj_all = [m for m in run.measurements if m.size == size and m.engine == "cjlib" and m.peak_rss]
    if cj_all:
        worst = max(cj_all, key=lambda m: m.peak_rss or 0)
        met = "met" if worst.peak_rss < MEMORY_TARGET else "**missed**"
        rows.append(f"| cjlib peak memory < 4 GiB | {worst.peak_rss / GIB:.2f} GiB "
                    f"({worst.analysis}) | {met} |")
    return "\n".join(rows)


def _largest(run: BenchRun) -> str:
    measured = [s for s in run.sizes if any(m.size == s for m in run.measurements)]
    return measured[-1] if measured else run.sizes[-1]


def _ingest_rows(m: Measurement | None) -> int | None:
    if m is None or not m.answer or "rows_read" not in m.answer["columns"]:
        return None
    value = m.answer["data"][0][m.answer["columns"].index("rows_read")]
    return int(value) if value is not None else None


def _analysis(run: BenchRun, name: str) -> str:
    item = ANALYSES[name]
    rows = [f"## {item.title}", "", item.question + ".", "",
            "| size | engine | median s (n, range) | CPU s | × floor | CPU × floor | "
            "peer / cjlib | peak RSS | answer |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    answers = []
    for size in run.sizes:
        ms = [m for m in run.measurements if m.size == size and m.analysis == name]
        floor = next((m for m in ms if m.engine == "floor" and m.ok), None)
        cj = next((m for m in ms if m.engine == "cjlib" and m.ok), None)
        for m in ms:
            rows.append(_row(m, floor, cj, name))
        reference = next((m for m in ms if m.ok and m.engine != "floor" and m.answer), None)
        if reference is not None:
            answers.append(f"- {size}, {reference.engine}: {_answer_text(reference.answer)}")
    if answers:
        rows += ["", "Reference answer (every other engine's answer was checked equal to it before "
                 "being timed; the floor answers nothing):", "", *answers]
    return "\n".join(rows)


def _answer_text(answer: dict) -> str:
    """A small answer in one line; a large one by its size."""
    data, columns = answer["data"], answer["columns"]
    if len(data) > 8:
        return f"{len(data)} rows ({', '.join(columns)})"
    return "; ".join(", ".join(f"{c}={_fmt(v)}" for c, v in zip(columns, row, strict=True))
                     for row in data)


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _row(m: Measurement, floor: Measurement | None, cj: Measurement | None, name: str) -> str:
    if not m.ok:
        detail = m.detail.replace("|", "\\|").replace("\n", " ")
        if len(detail) > 300:
            detail = detail[:300] + " ..."
        return f"| {m.size} | {m.engine} | {m.status} | | | | | {_rss(m)} | {detail} |"
    spread = f"{min(m.times):.3f}-{max(m.times):.3f}" if len(m.times) > 1 else "-"
    times = f"{m.median:,.3f} ({len(m.times)}, {spread})"
    over_floor = over_cpu = ""
    if floor and m.engine != "floor":
        over_floor = _ratio(m.median / floor.median)
        if floor.cpu_median:
            over_cpu = _ratio(m.cpu_median / floor.cpu_median)
    vs_cj = _ratio(m.median / cj.median) if cj and m.engine not in ("cjlib", "floor") else ""
    answer = _answer_note(m, name)
    return (f"| {m.size} | {m.engine} | {times} | {m.cpu_median:,.2f} | {over_floor} | "
            f"{over_cpu} | {vs_cj} | {_rss(m)} | {answer} |")


def _ratio(x: float) -> str:
    """A ratio with two significant figures: 0.045x, 1.2x, 56x."""
    if x >= 10:
        return f"{x:,.0f}x"
    return f"{x:.2g}x" if x < 1 else f"{x:.1f}x"


def _rss(m: Measurement) -> str:
    text = f"{m.peak_rss / MIB:,.0f} MiB" if m.peak_rss else ""
    spill = getattr(m, "spill", None)
    if spill:
        text += f" (+{spill / MIB:,.0f} MiB spilled)"
    return text


def _answer_note(m: Measurement, name: str) -> str:
    if m.engine == "floor":
        return "(not an answer)"
    if name == "ingest":
        rows = _ingest_rows(m)
        return f"{rows:,} rows, {rows / m.median:,.0f} rows/s" if rows and m.median else ""
    if m.checked_against:
        return f"= {m.checked_against}"
    return "reference"


def _pending(run: BenchRun) -> str:
    lines = []
    for m in run.measurements:
        if m.status == "ok":
            continue
        label = {"pending": "not available yet", "unavailable": "not installed here"}.get(
            m.status, m.status)
        lines.append(f"- {m.size} {m.analysis} / {m.engine}: {label} — {m.detail}")
    if not lines:
        return ""
    return "## Not measured\n\n" + "\n".join(dict.fromkeys(lines))


def _semantics(run: BenchRun) -> str:
    lines = ["## How each engine answers", ""]
    for item in analyses():
        if not _measured(run, item.name):
            continue
        lines.append(f"**{item.title}** — {item.question}.")
        lines.append("")
        for (analysis_name, engine), entry in ENTRIES.items():
            if analysis_name == item.name and entry.semantics:
                lines.append(f"- {engine}: {entry.semantics}")
        lines.append("")
    return "\n".join(lines)


def _generation(dataset: dict[str, Any]) -> str:
    """Seconds spent generating the sample in this run, or when the cached one was made."""
    if dataset.get("generation_s") is not None:
        return f"{dataset['generation_s']:.0f} s"
    if dataset.get("generation_cached_s") is not None:
        return f"cached (made in {dataset['generation_cached_s']:.0f} s)"
    return "cached"
