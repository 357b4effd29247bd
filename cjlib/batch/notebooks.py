"""The report notebooks: where they are, their titles, their parameters, and which cjlib modules
they need (so a notebook whose analysis has not landed yet is skipped, not failed)."""

from __future__ import annotations

import importlib.util
import inspect
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from cjlib import paths

NOTEBOOK_GLOB = "[0-9][0-9]_*"
_METHOD_CALL = re.compile(r"\bj\.([A-Za-z_]\w*)\s*\(")
_FROM_IMPORT = re.compile(r"^\s*from\s+(cjlib[\w.]*)\s+import\s+([\w, ]+)", re.MULTILINE)
_IMPORT = re.compile(r"^\s*import\s+(cjlib[\w.]*)", re.MULTILINE)


def notebooks_dir() -> Path:
    """The project's notebooks/ folder."""
    return paths.project_root() / "notebooks"


def load(path: Path) -> nbformat.NotebookNode:
    """A notebook from .ipynb, or from its jupytext py:percent twin."""
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    import jupytext

    nb = jupytext.read(path)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                          "language": "python"})
    return nb


def code_of(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@cache
def journey_method_target(method: str) -> str | None:
    """What a Journey method delegates to, as "module:function" (read from its
    `from X import f` line)."""
    from cjlib.journey import Journey

    func = getattr(Journey, method, None)
    if func is None or not callable(func):
        return None
    match = re.search(r"from\s+(cjlib[\w.]*)\s+import\s+(\w+)", inspect.getsource(func))
    return f"{match.group(1)}:{match.group(2)}" if match else None


def required_modules(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    """Every cjlib module the notebook's code imports, and every "module:function" it reaches
    through a `j.<method>(` call."""
    code = code_of(nb)
    needed: set[str] = set()
    for package, names in _FROM_IMPORT.findall(code):
        for name in (n.strip() for n in names.split(",")):
            candidate = f"{package}.{name}"
            needed.add(candidate if _is_module_name(candidate) else package)
    needed.update(_IMPORT.findall(code))
    for method in _METHOD_CALL.findall(code):
        target = journey_method_target(method)
        if target:
            needed.add(target)
    return tuple(sorted(needed))


def _is_module_name(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The modules (or "module:function"s) that do not exist yet: an analysis not written yet.
    A module that exists but fails to import is not missing: running it shows the error."""
    missing = []
    for requirement in modules:
        name, _, function = requirement.partition(":")
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found and function:
            try:
                found = hasattr(importlib.import_module(name), function)
            except Exception:
                found = True
        if not found:
            missing.append(requirement)
    return missing


def declared_parameters(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The parameters cell's names and default values (as papermill reads them)."""
    import ast
    import copy

    from papermill.inspection import _infer_parameters

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    found: dict[str, Any] = {}
    for parameter in _infer_parameters(nb):
        try:
            found[parameter.name] = ast.literal_eval(parameter.default)
        except (ValueError, SyntaxError):
            found[parameter.name] = parameter.default
    return found


def title_of(nb: nbformat.NotebookNode, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


@dataclass(frozen=True)
class NotebookSpec:
    """One report notebook."""

    path: Path
    name: str
    title: str
    parameters: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    requires: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        return missing_modules(self.requires)

    def load(self) -> nbformat.NotebookNode:
        return load(self.path)


def spec_of(path: Path) -> NotebookSpec:
    nb = load(path)
    return NotebookSpec(
        path=path,
        name=path.stem,
        title=title_of(nb, path.stem),
        parameters=declared_parameters(nb),
        requires=required_modules(nb),
    )


def discover(folder: Path | None = None, only: list[str] | None = None) -> list[NotebookSpec]:
    """The numbered notebooks of `folder` in reading order (.ipynb preferred over its .py twin);
    `only` keeps those whose name starts with one of the given prefixes ("00", "10_funnel")."""
    folder = folder or notebooks_dir()
    stems: dict[str, Path] = {}
    for path in sorted(folder.glob(NOTEBOOK_GLOB)):
        if path.suffix == ".ipynb" or (path.suffix == ".py" and path.stem not in stems):
            if path.suffix == ".py" and path.with_suffix(".ipynb").exists():
                continue
            stems[path.stem] = path
    chosen = [p for s, p in sorted(stems.items())
              if not only or any(s.startswith(prefix) for prefix in only)]
    return [spec_of(p) for p in chosen]
