"""Executing one notebook for one client: papermill in-process, with a timeout, the client's
parameters injected, and a self-contained HTML page beside the executed notebook."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat

from cjlib.batch.notebooks import NotebookSpec
from cjlib.report.html import Page, notebook_page

DEFAULT_TIMEOUT = 600  # seconds per cell
KERNEL = "python3"


@dataclass
class NotebookRun:
    """How one notebook ran: ok, failed (with its error) or skipped (analysis missing)."""

    name: str
    title: str
    status: str
    seconds: float = 0.0
    error: str | None = None
    ipynb: str | None = None  # file names inside the run folder
    html: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def notebook_parameters(spec: NotebookSpec, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters this notebook declares, from the client's parameters (others are left out,
    so papermill never injects a name the notebook does not know)."""
    return {k: v for k, v in parameters.items() if k in spec.parameters}


def _describe(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f" (cell {cell})" if cell else ""
        return f"{ename}: {getattr(exc, 'evalue', '')}{where}".strip()
    return f"{type(exc).__name__}: {exc}"


def run_notebook(
    spec: NotebookSpec,
    run_dir: Path,
    parameters: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL,
) -> NotebookRun:
    """Execute `spec` with `parameters` into run_dir/<name>.ipynb.

    A notebook whose cjlib modules are missing is skipped; any error is caught and reported
    (the partly executed notebook is kept for diagnosis)."""
    import papermill

    missing = spec.missing()
    if missing:
        return NotebookRun(spec.name, spec.title, "skipped",
                           error=f"not available yet: {', '.join(missing)}")
    out_ipynb = run_dir / f"{spec.name}.ipynb"
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            spec.load(),
            str(out_ipynb),
            parameters=notebook_parameters(spec, parameters),
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            execution_timeout=timeout,
            start_timeout=120,
            cwd=str(run_dir),
        )
    except Exception as exc:  # isolate: one notebook failing never stops the others
        return NotebookRun(spec.name, spec.title, "failed", time.perf_counter() - started,
                           _describe(exc), out_ipynb.name if out_ipynb.exists() else None)
    return NotebookRun(spec.name, spec.title, "ok", time.perf_counter() - started, None,
                       out_ipynb.name)


def write_page(run: NotebookRun, run_dir: Path, page: Page) -> NotebookRun:
    """Write the client page <name>.html of an executed notebook (a failure here fails it)."""
    if run.status != "ok" or not run.ipynb:
        return run
    try:
        executed = nbformat.read(run_dir / run.ipynb, as_version=4)
        out_html = run_dir / f"{run.name}.html"
        out_html.write_text(notebook_page(executed, page, run.title), encoding="utf-8")
    except Exception as exc:
        run.status, run.error = "failed", f"writing HTML: {_describe(exc)}"
        return run
    run.html = out_html.name
    return run


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send this process's file descriptor 2 (and so the kernels' warnings) to a log file."""
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
