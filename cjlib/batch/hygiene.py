"""Notebook hygiene: thin, parameterised, paired, and never committed with outputs.

    python -m cjlib.batch.hygiene            # check (exit 1 on any problem): `make lint` runs this
    python -m cjlib.batch.hygiene --fix      # sync each .ipynb/.py pair, strip outputs

Rules for every numbered notebook in notebooks/:
- a first code cell tagged `parameters` with client (default the sample client acme-motor), start,
  end and static_charts;
- code cells are calls into cjlib: no SQL strings, no `.sql(`/`.query(`/`.execute(` calls, no
  `def`, no `class`, at most three statements a cell;
- no outputs or execution counts in the .ipynb, and a kernelspec;
- the .ipynb and its jupytext py:percent twin hold the same cells.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

from cjlib.batch.notebooks import NOTEBOOK_GLOB, notebooks_dir

DEFAULT_CLIENT = "acme-motor"
REQUIRED_PARAMETERS = ("client", "start", "end", "static_charts")
MAX_STATEMENTS = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
JUPYTEXT = {"cell_metadata_filter": "tags,-all", "notebook_metadata_filter": "-all"}
_SQL = re.compile(
    r"(\bselect\b[\s\S]*\bfrom\b)|(^\s*with\b[\s\S]*\bas\s*\()|(\binsert\s+into\b)|"
    r"(\bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view|macro)\b)|"
    r"(\bdelete\s+from\b)|(\bupdate\b[\s\S]*\bset\b)|(\bcopy\b[\s\S]*\bto\b)|(\battach\b)",
    re.IGNORECASE,
)
_SQL_METHODS = {"sql", "query", "execute", "executemany"}


def pairs(folder: Path | None = None) -> list[tuple[Path, Path]]:
    """(ipynb, py) for every numbered notebook, existing or not."""
    folder = folder or notebooks_dir()
    stems = sorted({p.stem for p in folder.glob(NOTEBOOK_GLOB) if p.suffix in (".ipynb", ".py")})
    return [(folder / f"{s}.ipynb", folder / f"{s}.py") for s in stems]


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.get("metadata", {}).get("tags", [])))
            for c in nb.cells]


def _read_py(path: Path) -> nbformat.NotebookNode:
    import jupytext

    return jupytext.read(path, fmt="py:percent")


def code_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What makes a notebook's code more than thin calls into cjlib."""
    problems = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells or "parameters" not in code_cells[0].get("metadata", {}).get("tags", []):
        problems.append("the first code cell must be tagged `parameters`")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"cell {index}"
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            problems.append(f"{where}: not valid Python ({exc.msg})")
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" not in tags and len(tree.body) > MAX_STATEMENTS:
            problems.append(f"{where}: {len(tree.body)} statements (at most {MAX_STATEMENTS})")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                problems.append(f"{where}: defines a function ({node.name}); put it in cjlib")
            elif isinstance(node, ast.ClassDef):
                problems.append(f"{where}: defines a class ({node.name}); put it in cjlib")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and _SQL.search(node.value):
                problems.append(f"{where}: SQL in a string ({node.value[:40]!r}); put it in "
                                "cjlib/analyses/sql/")
            elif isinstance(node, ast.JoinedStr) and _SQL.search(ast.unparse(node)):
                problems.append(f"{where}: SQL in an f-string; put it in cjlib/analyses/sql/")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in _SQL_METHODS:
                problems.append(f"{where}: runs SQL directly (.{node.func.attr}(...)); call an "
                                "analysis instead")
    return problems


def parameter_problems(nb: nbformat.NotebookNode) -> list[str]:
    from cjlib.batch.notebooks import declared_parameters

    try:
        declared = declared_parameters(nb)
    except Exception as exc:
        return [f"parameters cell cannot be read: {exc}"]
    problems = [f"parameters cell lacks `{name}`" for name in REQUIRED_PARAMETERS
                if name not in declared]
    if declared.get("client", DEFAULT_CLIENT) != DEFAULT_CLIENT:
        problems.append(f"the default client must be the sample client {DEFAULT_CLIENT!r}")
    if declared.get("static_charts") not in (False, None):
        problems.append("static_charts must default to False (batch runs set it)")
    return problems


def output_problems(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index}: has committed outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index}: has an execution count")
    if "kernelspec" not in nb.metadata:
        problems.append("no kernelspec in the notebook metadata")
    return problems


def check(folder: Path | None = None) -> list[str]:
    """Every hygiene problem of the notebooks, as 'file: problem' lines."""
    found = []
    for ipynb, py in pairs(folder):
        for path in (ipynb, py):
            if not path.exists():
                found.append(f"{path}: missing (every notebook is an .ipynb + py:percent pair)")
        if not (ipynb.exists() and py.exists()):
            continue
        nb = nbformat.read(ipynb, as_version=4)
        found += [f"{ipynb}: {p}" for p in output_problems(nb)]
        found += [f"{ipynb}: {p}" for p in code_problems(nb) + parameter_problems(nb)]
        if _cells(nb) != _cells(_read_py(py)):
            found.append(f"{ipynb}: differs from {py.name} (run `python -m cjlib.batch.hygiene "
                         "--fix` to sync the pair)")
    return found


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs, execution counts and run metadata; keep tags; set the kernelspec."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = {"tags": tags} if tags else {}
    kernelspec = dict(nb.metadata.get("kernelspec") or KERNELSPEC)
    kernelspec.setdefault("language", "python")
    nb.metadata = {"jupytext": dict(JUPYTEXT), "kernelspec": kernelspec}
    return nb


def fix(folder: Path | None = None) -> list[str]:
    """Sync every pair (the newer file wins; a lone file creates its twin) and strip outputs."""
    import jupytext

    done = []
    for ipynb, py in pairs(folder):
        if ipynb.exists() and (not py.exists() or ipynb.stat().st_mtime >= py.stat().st_mtime):
            nb = strip(nbformat.read(ipynb, as_version=4))
            source = "ipynb"
        else:
            nb = strip(_read_py(py))
            if ipynb.exists():  # keep cell ids stable where the cells did not change
                old = nbformat.read(ipynb, as_version=4)
                for new_cell, old_cell in zip(nb.cells, old.cells, strict=False):
                    if (new_cell.cell_type, new_cell.source) == (old_cell.cell_type,
                                                                 old_cell.source):
                        new_cell["id"] = old_cell.get("id", new_cell.get("id"))
            source = "py"
        nbformat.write(nb, ipynb)
        jupytext.write(nb, py, fmt="py:percent")
        done.append(f"{ipynb.stem}: synced from {source}, outputs stripped")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cjlib.batch.hygiene", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fix", action="store_true", help="sync pairs and strip outputs")
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="notebooks folder (default: notebooks/)")
    args = parser.parse_args(argv)
    if args.fix:
        for line in fix(args.folder):
            print(line)
    problems = check(args.folder)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"{len(problems)} notebook hygiene problem(s)", file=sys.stderr)
        return 1
    print(f"notebooks OK ({len(pairs(args.folder))} pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
