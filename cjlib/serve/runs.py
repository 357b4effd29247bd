"""Which dashboard notebook `cj serve` serves for a client, baking one when the batch has not.

A batch run (cjlib.batch) writes `reports/<client>/<run-id>/` and points `reports/<client>/latest`
at the newest successful run. When that run holds `dashboard.ipynb` (notebooks/dashboard.ipynb
executed by papermill with the client's parameters) it is served as is: the client is the one the
run baked in. Otherwise `bake` executes notebooks/dashboard.ipynb with papermill into a run folder
of its own, `reports/<client>/serve-<run-id>/` (which the batch's run listing ignores), with the
latest run's period and funnel parameters; executing it also proves the dashboard works for this
client before anyone opens it. A bake newer than the notebook, the warehouse and the latest run is
reused. Logs go to `reports/<client>/.serve/`, never into a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cjlib import paths
from cjlib.batch.engagement import slug
from cjlib.batch.runs import latest_run, new_run_id
from cjlib.config import Workspace, find_workspace
from cjlib.errors import CjError

DASHBOARD = "dashboard.ipynb"
BAKE_PREFIX = "serve-"
LOG_DIR = ".serve"
BAKE_TIMEOUT_S = 600
# The run parameters the dashboard takes over from the latest batch run (the client is always
# the workspace being served).
RUN_PARAMETERS = ("start", "end", "sales_steps")


class ServeError(CjError):
    """The dashboard cannot be served (no warehouse, a run for another client, ...)."""


@dataclass(frozen=True)
class Served:
    """The notebook to serve, for which client, and where its logs go."""

    notebook: Path
    client: str
    workspace: Workspace
    baked: bool
    log_dir: Path


def source_notebook() -> Path:
    """notebooks/dashboard.ipynb of the project (else of the source checkout cjlib runs from)."""
    for root in (paths.project_root(), paths.PACKAGE_DIR.parent):
        candidate = root / "notebooks" / DASHBOARD
        if candidate.is_file():
            return candidate
    return paths.project_root() / "notebooks" / DASHBOARD


def client_reports(workspace: Workspace, reports: Path | None = None) -> Path:
    """reports/<client>/ as the batch names it."""
    return (reports or paths.reports_dir()) / slug(workspace.config.client)


def baked_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters papermill baked into a notebook ({} when none)."""
    meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    return dict((meta.get("papermill") or {}).get("parameters") or {})


def same_workspace(value: Any, workspace: Workspace) -> bool:
    """Whether a baked `client` value names this workspace."""
    if value is None:
        return False
    try:
        return find_workspace(str(value)).root == workspace.root
    except CjError:
        return False


def check_served(notebook: Path, workspace: Workspace) -> None:
    """Refuse a notebook baked for another client, or not baked at all."""
    client = baked_parameters(notebook).get("client")
    if not same_workspace(client, workspace):
        raise ServeError(
            f"{notebook} was not run for {workspace.name} (its client parameter is {client!r})")


def run_parameters(run: Path | None) -> dict[str, Any]:
    """The period and funnel parameters of a batch run (from its run.json)."""
    if run is None or not (run / "run.json").is_file():
        return {}
    given = json.loads((run / "run.json").read_text(encoding="utf-8")).get("parameters") or {}
    return {k: given[k] for k in RUN_PARAMETERS if given.get(k) is not None}


def find_or_bake(client: str, *, reports: Path | None = None, rebake: bool = False,
                 source: Path | None = None,
                 on_bake: Callable[[str], None] | None = None) -> Served:
    """The dashboard notebook to serve for `client`: the latest run's, else a (re)usable bake
    (`on_bake` hears about a bake before it starts: it takes a while)."""
    workspace = find_workspace(client)
    if not workspace.warehouse_path.exists():
        raise ServeError(f"{workspace.name} has no warehouse yet: run `cj ingest {client}`")
    folder = client_reports(workspace, reports)
    log_dir = folder / LOG_DIR
    run = latest_run(folder)
    if run is not None and (run / DASHBOARD).is_file() and not rebake:
        check_served(run / DASHBOARD, workspace)
        return Served(run / DASHBOARD, workspace.name, workspace, False, log_dir)
    parameters = {"client": str(workspace.root), **run_parameters(run)}
    source = source or source_notebook()
    previous = None if rebake else reusable_bake(folder, workspace, parameters, source, run)
    if previous is None and on_bake is not None:
        on_bake(f"the latest run has no dashboard for {workspace.name}: running it once "
                "(papermill) to bake one ...")
    notebook = previous or bake(workspace, folder, parameters, source=source)
    return Served(notebook, workspace.name, workspace, previous is None, log_dir)


def reusable_bake(folder: Path, workspace: Workspace, parameters: dict[str, Any],
                  source: Path, run: Path | None) -> Path | None:
    """The newest earlier bake with the same parameters, newer than everything it depends on."""
    bakes = sorted(folder.glob(f"{BAKE_PREFIX}*/{DASHBOARD}"), key=lambda p: p.parent.name)
    if not bakes:
        return None
    newest = bakes[-1]
    inputs = [source, workspace.warehouse_path] + ([run / "run.json"] if run else [])
    stamp = max(p.stat().st_mtime for p in inputs if p.exists())
    if newest.stat().st_mtime <= stamp or baked_parameters(newest) != parameters:
        return None
    return newest


def bake(workspace: Workspace, folder: Path, parameters: dict[str, Any], *,
         source: Path | None = None) -> Path:
    """Execute the dashboard notebook with `parameters` into a new `serve-<run-id>/` folder and
    return it, outputs cleared (Voila executes it afresh for each visitor)."""
    import nbformat
    import papermill

    source = source or source_notebook()
    if not source.is_file():
        raise ServeError(f"no dashboard notebook at {source}")
    run_dir = _new_folder(folder)
    target = run_dir / DASHBOARD
    try:
        papermill.execute_notebook(
            str(source), str(target), parameters=parameters,
            kernel_name="python3", progress_bar=False, log_output=False,
            execution_timeout=BAKE_TIMEOUT_S, cwd=str(run_dir),
        )
    except Exception as exc:
        raise ServeError(
            f"the dashboard failed for {workspace.name}; see {target} ({type(exc).__name__})"
        ) from exc
    nb = nbformat.read(str(target), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, str(target))
    return target


def _new_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = BAKE_PREFIX + new_run_id()
    for n in range(1, 1000):
        candidate = folder / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise ServeError(f"{folder}: could not create a folder for the dashboard")
