"""Batch runs: every report notebook for one client (`run_client`) or for many clients in worker
processes (`run_all`), into reports/<client>/<run-id>/, with an index page, metrics.json and a
run-to-run comparison. A failing notebook or client never stops the others."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cjlib import __version__, paths
from cjlib.batch import runs
from cjlib.batch.engagement import (
    ClientJob,
    all_clients,
    jobs_for_names,
    load_engagement,
    sample_clients,
    slug,
)
from cjlib.batch.execute import (
    DEFAULT_TIMEOUT,
    KERNEL,
    NotebookRun,
    run_notebook,
    stderr_to,
    write_page,
)
from cjlib.batch.metrics import collect_measures, diff, format_measure, nuggets_from_outputs
from cjlib.batch.notebooks import NotebookSpec, discover
from cjlib.report.html import Page, logo_data_uri, render_fragment, render_page
from cjlib.report.nuggets import money_text

Progress = Callable[..., None]
FUNNEL_PARAMETER = "sales_steps"  # the notebook parameter whose default gives the key funnel


@dataclass
class ClientRun:
    """The outcome of one client's run."""

    label: str
    client: str | None
    status: str  # ok | failed
    run_dir: str | None = None
    seconds: float = 0.0
    notebooks: list[NotebookRun] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def count(self, status: str) -> int:
        return sum(1 for n in self.notebooks if n.status == status)

    def failures(self) -> list[str]:
        found = [f"{self.label}: {self.error}"] if self.error else []
        found += [f"{self.label} / {n.name}: {n.error}" for n in self.notebooks
                  if n.status == "failed"]
        return found

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notebooks"] = [n.to_dict() for n in self.notebooks]
        return data


@dataclass
class BatchRun:
    """The outcome of a batch: one ClientRun per client, in the order they were given."""

    name: str
    clients: list[ClientRun]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.clients) and all(c.ok for c in self.clients)

    def failures(self) -> list[str]:
        return [f for c in self.clients for f in c.failures()]

    def summary(self) -> str:
        """A plain-text table, one line per client, then every failure with its error."""
        header = ("client", "status", "ok", "failed", "skipped", "time", "report")
        rows = [header]
        for c in self.clients:
            rows.append((c.label, c.status, str(c.count("ok")), str(c.count("failed")),
                         str(c.count("skipped")), f"{c.seconds:.1f}s", c.run_dir or "-"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        done = sum(c.ok for c in self.clients)
        lines.append(f"\n{done} of {len(self.clients)} client(s) complete in {self.seconds:.1f}s"
                     f" ({self.name})")
        failures = self.failures()
        if failures:
            lines.append("\nFailures:")
            lines += [f"  - {f}" for f in failures]
        skipped = sorted({f"{n.name}: {n.error}" for c in self.clients for n in c.notebooks
                          if n.status == "skipped"})
        if skipped:
            lines.append("\nSkipped (analysis not available yet):")
            lines += [f"  - {s}" for s in skipped]
        return "\n".join(lines)


# ------------------------------------------------------------------------------ one client


def _period_text(first: Any, last: Any) -> str:
    if not first or not last:
        return ""
    first_day, last_day = (datetime.fromisoformat(str(v)) for v in (first, last))
    return f"{first_day:%d %b %Y} to {last_day:%d %b %Y}"


def _page(ws: Any, run_id: str, period: str, parameters: dict[str, Any]) -> Page:
    config = ws.config
    branding = config.branding
    logo = logo_data_uri(ws.root / branding.logo) if branding.logo else None
    window = ""
    if parameters.get("start") or parameters.get("end"):
        window = (f" · customers first seen {parameters.get('start') or 'any time'}"
                  f" to {parameters.get('end') or 'now'}")
    subtitle = f"Customer journey report · data {period}{window}" if period else \
        "Customer journey report"
    footer = (f"{config.name} · run {run_id} · generated "
              f"{datetime.now(UTC):%d %b %Y %H:%M} UTC by cjkit {__version__}. "
              "Contact details are pseudonymised; figures are computed from the client's exports.")
    return Page(client_name=config.name, subtitle=subtitle, footer=footer,
                primary=branding.primary, accent=branding.accent, logo=logo)


def _nav(notebooks: list[NotebookRun], current: str | None) -> list[dict[str, Any]]:
    items = [{"title": "Overview", "href": "index.html", "current": current == "index.html"}]
    items += [{"title": n.title, "href": n.html, "current": current == n.html}
              for n in notebooks if n.html]
    return items


def _funnel_steps(specs: list[NotebookSpec], parameters: dict[str, Any]) -> list[str] | None:
    """The key funnel for metrics.json: the run's `sales_steps` parameter, else the first
    default a notebook declares (looking at the whole folder, so a partial run measures the
    same funnel as a full one)."""
    if FUNNEL_PARAMETER in parameters:
        return list(parameters[FUNNEL_PARAMETER])
    folders = dict.fromkeys(spec.path.parent for spec in specs)
    for spec in [*specs, *(s for f in folders for s in discover(f))]:
        if isinstance(spec.parameters.get(FUNNEL_PARAMETER), list):
            return list(spec.parameters[FUNNEL_PARAMETER])
    return None


def run_client(
    client: str | Path,
    *,
    parameters: dict[str, Any] | None = None,
    notebooks: list[NotebookSpec] | Path | None = None,
    reports: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL,
    ingest: bool = False,
    label: str | None = None,
    on_progress: Progress | None = None,
) -> ClientRun:
    """Run every report notebook for one client (a workspace name or path) into
    reports/<client>/<run-id>/: executed notebooks, their HTML pages, index.html, metrics.json
    and run.json; `latest` then points at the run if nothing failed."""
    import cjlib
    from cjlib.config import find_workspace

    started = time.perf_counter()
    label = label or Path(str(client)).name
    parameters = dict(parameters or {})
    progress = on_progress or (lambda *a, **k: None)

    def failed(error: str, run_dir: Path | None = None) -> ClientRun:
        progress(label, "finished", status="failed")
        return ClientRun(label, None, "failed", str(run_dir) if run_dir else None,
                         time.perf_counter() - started, [], error)

    try:
        ws = find_workspace(client)
        name = ws.config.client
        if ingest:
            from cjlib.ingest import build_warehouse

            progress(label, "notebook", name="ingest")
            build_warehouse(ws, progress=False)
        base = journey = cjlib.open(str(ws.root))
    except Exception as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    specs = notebooks if isinstance(notebooks, list) else discover(notebooks)
    progress(label, "start", total=len(specs))
    run_dir = runs.create_run_dir((reports or paths.reports_dir()) / slug(name))
    try:
        if parameters.get("start") or parameters.get("end"):
            journey = journey.where(start=parameters.get("start"), end=parameters.get("end"))
        first, last = journey.query("SELECT min(ts) AS a, max(ts) AS b FROM events").iloc[0]
        period = _period_text(first, last) if first is not None and first == first else ""
        page = _page(ws, run_dir.name, period, parameters)
        injected = {"client": str(ws.root), "static_charts": True, **parameters}
        done: list[NotebookRun] = []
        with stderr_to(run_dir / "kernels.log"):
            for spec in specs:
                progress(label, "notebook", name=spec.name)
                result = run_notebook(spec, run_dir, injected, timeout=timeout,
                                      kernel_name=kernel_name)
                done.append(result)
                progress(label, "done", name=spec.name, status=result.status)
        pages = [n for n in done if n.status == "ok"]
        for n in pages:
            n.html = f"{n.name}.html"  # provisional, so the navigation lists every page
        for n in pages:
            write_page(n, run_dir, replace(page, nav=_nav(done, f"{n.name}.html")))
        metrics = _write_metrics(journey, run_dir, done, specs, injected)
        status = "ok" if all(n.status != "failed" for n in done) else "failed"
        _write_index(run_dir, page, done, metrics, ws.config.currency)
        outcome = ClientRun(label, name, status, str(run_dir), time.perf_counter() - started,
                            done)
        runs.write_json(run_dir / runs.RUN_FILE, {
            **outcome.to_dict(), "run_id": run_dir.name, "parameters": injected,
            "cjkit": __version__, "finished_at": datetime.now(UTC).isoformat(),
        })
        if outcome.ok:
            runs.set_latest(run_dir)
        progress(label, "finished", status=status)
        return outcome
    except Exception as exc:
        return failed(f"{type(exc).__name__}: {exc}", run_dir)
    finally:
        journey.con.close()
        base.con.close()


def _write_metrics(journey: Any, run_dir: Path, done: list[NotebookRun],
                   specs: list[NotebookSpec], parameters: dict[str, Any]) -> dict[str, Any]:
    import nbformat

    executed = [nbformat.read(run_dir / n.ipynb, as_version=4) for n in done
                if n.status == "ok" and n.ipynb]
    metrics = {
        "client": journey.settings.client,
        "run_id": run_dir.name,
        "generated_at": datetime.now(UTC).isoformat(),
        "parameters": {k: v for k, v in parameters.items() if k != "client"},
        "measures": collect_measures(journey, _funnel_steps(specs, parameters)),
        "nuggets": nuggets_from_outputs(executed),
        "notebooks": {n.name: n.status for n in done},
    }
    runs.write_json(run_dir / runs.METRICS_FILE, metrics)
    return metrics


_STATUS_LABEL = {"ok": "ready", "failed": "failed", "skipped": "not available yet"}


def _write_index(run_dir: Path, page: Page, done: list[NotebookRun], metrics: dict[str, Any],
                 currency: str) -> None:
    previous = runs.previous_run(run_dir)
    changes = diff(runs.read_json(previous / runs.METRICS_FILE), metrics) if previous else []
    measures = metrics["measures"]
    ready = sum(n.status == "ok" for n in done)
    summary = f"{ready} of {len(done)} chapters ready."
    if "events" in measures and "customers" in measures:
        summary = (f"{measures['events']['value']:,} events for "
                   f"{measures['customers']['value']:,} customers. " + summary)
    nuggets = (metrics["nuggets"] or [])[:5]
    if metrics["nuggets"] is None:
        note = ("Findings appear here once the executive summary (the nugget scan) has run "
                "for this client.")
    else:
        note = "No finding cleared its evidence bar in this run."
    rows = [{
        "title": n.title, "html": n.html, "status": n.status,
        "status_label": _STATUS_LABEL.get(n.status, n.status),
        "seconds_text": f"{n.seconds:.1f}s" if n.status != "skipped" else "",
        # errors are summarised for the client: the full error is in run.json and the ipynb
        "note": "see run.json" if n.status == "failed" else "",
    } for n in done]
    figures = [{"label": m["label"], "text": format_measure(m.get("kind", "int"), m["value"])}
               for m in measures.values()]
    body = render_fragment(
        "index.html.j2", client_name=page.client_name, summary=summary, nuggets=nuggets,
        measures=figures, money=lambda amount: money_text(amount, currency),
        nuggets_note=note, notebooks=rows,
        previous=previous.name if previous else None, changes=changes,
    )
    text = render_page(replace(page, nav=_nav(done, "index.html")), "Overview", body)
    (run_dir / "index.html").write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------ many clients


def resolve_jobs(
    clients: list[str | ClientJob] | None = None,
    *,
    engagement: Path | None = None,
    sample: bool = False,
    parameters: dict[str, Any] | None = None,
) -> tuple[str, list[ClientJob]]:
    """(batch name, jobs): the engagement file's clients, or the sample clients, or the named
    clients, or else every workspace under data/clients/."""
    if engagement is not None:
        name, jobs = load_engagement(Path(engagement), parameters)
    elif sample:
        name, jobs = "sample clients", sample_clients(parameters)
    elif clients:
        name = "clients"
        jobs = [c if isinstance(c, ClientJob) else jobs_for_names([str(c)], parameters)[0]
                for c in clients]
    else:
        name, jobs = "all clients", all_clients(parameters)
    seen: dict[str, int] = {}
    for job in jobs:  # labels key the progress bars and results: keep them unique
        seen[job.label] = seen.get(job.label, 0) + 1
        if seen[job.label] > 1:
            job.label = f"{job.label}-{seen[job.label]}"
    return name, jobs


_EVENTS: Any = None  # the progress queue, in a worker process


def _init_worker(events: Any) -> None:
    global _EVENTS
    _EVENTS = events


def _worker(job: ClientJob, options: dict[str, Any]) -> ClientRun:
    def report(label: str, event: str, **info: Any) -> None:
        if _EVENTS is not None:
            _EVENTS.put((label, event, info))

    try:
        return run_client(job.location, parameters=job.parameters, label=job.label,
                          on_progress=report, **options)
    except BaseException as exc:  # the worker must always answer
        return ClientRun(job.label, None, "failed", error=f"{type(exc).__name__}: {exc}")


class _Bars:
    """One tqdm bar per client, advanced per notebook, fed from worker events."""

    def __init__(self, jobs: list[ClientJob], total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}
        if enabled:
            from tqdm.auto import tqdm

            width = max(len(j.label) for j in jobs)
            for i, job in enumerate(jobs):
                self.bars[job.label] = tqdm(total=total, desc=job.label.ljust(width),
                                            position=i, unit="nb", leave=True)

    def __call__(self, label: str, event: str, **info: Any) -> None:
        bar = self.bars.get(label)
        if bar is None:
            return
        if event == "start":
            bar.reset(total=info["total"])
        elif event == "notebook":
            bar.set_postfix_str(info["name"])
        elif event == "done":
            bar.update(1)
        elif event == "finished":
            bar.set_postfix_str(info["status"])
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def run_all(
    clients: list[str | ClientJob] | None = None,
    *,
    engagement: Path | None = None,
    sample: bool = False,
    parameters: dict[str, Any] | None = None,
    jobs: int = 2,
    notebooks: Path | None = None,
    only: list[str] | None = None,
    reports: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL,
    ingest: bool = False,
    progress: bool = True,
) -> BatchRun:
    """Run every notebook for every client (see resolve_jobs), `jobs` clients at a time in
    worker processes; returns the BatchRun (its .ok is False if anything failed)."""
    started = time.perf_counter()
    name, client_jobs = resolve_jobs(clients, engagement=engagement, sample=sample,
                                     parameters=parameters)
    specs = discover(notebooks, only)
    options = {"notebooks": specs, "reports": reports, "timeout": timeout,
               "kernel_name": kernel_name, "ingest": ingest}
    if not client_jobs:
        return BatchRun(name, [], time.perf_counter() - started)
    bars = _Bars(client_jobs, len(specs), progress)
    results: dict[str, ClientRun] = {}
    try:
        if jobs <= 1 or len(client_jobs) == 1:
            for job in client_jobs:
                results[job.label] = run_client(job.location, parameters=job.parameters,
                                                label=job.label, on_progress=bars, **options)
        else:
            results = _run_parallel(client_jobs, options, jobs, bars)
    finally:
        bars.close()
    ordered = [results.get(j.label) or ClientRun(j.label, None, "failed", error="did not run")
               for j in client_jobs]
    return BatchRun(name, ordered, time.perf_counter() - started)


def _run_parallel(client_jobs: list[ClientJob], options: dict[str, Any], jobs: int,
                  bars: _Bars) -> dict[str, ClientRun]:
    context = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads
    events = context.Queue()
    stop = threading.Event()
    results: dict[str, ClientRun] = {}

    def pump() -> None:
        while not stop.is_set():
            try:
                label, event, info = events.get(timeout=0.1)
            except queue_module.Empty:
                continue
            except (EOFError, OSError, ValueError):
                return
            bars(label, event, **info)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(client_jobs)), mp_context=context,
                                 initializer=_init_worker, initargs=(events,)) as pool:
            futures = {pool.submit(_worker, job, options): job for job in client_jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    results[job.label] = future.result()
                except Exception as exc:  # a crashed worker fails only its client
                    results[job.label] = ClientRun(
                        job.label, None, "failed",
                        error=f"worker crashed: {type(exc).__name__}: {exc}")
    finally:
        deadline = time.monotonic() + 2
        while not events.empty() and time.monotonic() < deadline:  # let the last events through
            time.sleep(0.05)
        stop.set()
        reader.join(timeout=2)
        events.close()
    return results
