"""The report notebooks: hygiene (thin, paired, no outputs), and every notebook executing with its
default parameters against the sample client (nbval --nbval-lax style: every cell runs without
error), skipped only while the analysis it calls has not landed."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from cjlib.batch import hygiene
from cjlib.batch.notebooks import discover

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SPECS = discover(NOTEBOOKS)

# ------------------------------------------------------------------ hygiene of the real notebooks


def test_committed_notebooks_are_hygienic():
    assert hygiene.check(NOTEBOOKS) == []


def test_there_is_a_notebook_per_chapter():
    prefixes = {s.name[:2] for s in SPECS}
    assert prefixes == {"00", "10", "20", "30", "40", "50", "60", "90"}


def test_hygiene_command_exits_zero_on_the_committed_notebooks(capsys):
    assert hygiene.main([str(NOTEBOOKS)]) == 0
    assert "notebooks OK" in capsys.readouterr().out


# ------------------------------------------------------------------ hygiene rules, one test each


def _pair(folder: Path, *code: str, name: str = "00_test", tags_first: bool = True) -> Path:
    """Write a paired notebook whose first code cell holds valid parameters."""
    import jupytext

    folder.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'client = "acme-motor"\nstart = None\nend = None\nstatic_charts = False',
        metadata={"tags": ["parameters"]} if tags_first else {})
    nb.cells = [nbformat.v4.new_markdown_cell("# Test"), params,
                *[nbformat.v4.new_code_cell(c) for c in code]]
    nb = hygiene.strip(nb)
    nbformat.write(nb, folder / f"{name}.ipynb")
    jupytext.write(nb, folder / f"{name}.py", fmt="py:percent")
    return folder / f"{name}.ipynb"


def _problems(folder: Path) -> str:
    return "\n".join(hygiene.check(folder))


def test_a_clean_notebook_passes(tmp_path):
    _pair(tmp_path, "from cjlib import report\nj = report.open_client(client)",
          "report.show(j.funnel(['quote', 'purchase']))")
    assert hygiene.check(tmp_path) == []


def test_rule_no_sql_strings(tmp_path):
    _pair(tmp_path, 'x = "SELECT count(*) FROM events"')
    assert "SQL in a string" in _problems(tmp_path)


def test_rule_no_sql_in_f_strings(tmp_path):
    _pair(tmp_path, 't = "events"\nx = f"select * from {t}"')
    assert "SQL in an f-string" in _problems(tmp_path)


def test_rule_no_direct_sql_calls(tmp_path):
    _pair(tmp_path, "j.sql(q)")
    assert "runs SQL directly (.sql" in _problems(tmp_path)


def test_rule_no_def(tmp_path):
    _pair(tmp_path, "def helper():\n    return 1")
    assert "defines a function (helper)" in _problems(tmp_path)


def test_rule_no_class(tmp_path):
    _pair(tmp_path, "class Thing:\n    pass")
    assert "defines a class (Thing)" in _problems(tmp_path)


def test_rule_at_most_three_statements_a_cell(tmp_path):
    _pair(tmp_path, "a = 1\nb = 2\nc = 3\nd = 4")
    assert "4 statements" in _problems(tmp_path)


def test_rule_parameters_cell_first_and_tagged(tmp_path):
    _pair(tmp_path, "x = 1", tags_first=False)
    assert "tagged `parameters`" in _problems(tmp_path)


def test_rule_default_client_is_the_sample_client(tmp_path):
    path = _pair(tmp_path, "x = 1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("acme-motor", "real-client")
    nbformat.write(nb, path)
    hygiene.fix(tmp_path)
    assert "default client must be the sample client" in _problems(tmp_path)


def test_rule_no_committed_outputs(tmp_path):
    path = _pair(tmp_path, "1 + 1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"},
                                                  execution_count=1)]
    nb.cells[2].execution_count = 1
    nbformat.write(nb, path)
    problems = _problems(tmp_path)
    assert "has committed outputs" in problems and "has an execution count" in problems


def test_rule_pairs_stay_in_sync(tmp_path):
    path = _pair(tmp_path, "x = 1")
    path.with_suffix(".py").write_text(path.with_suffix(".py").read_text() + "\n# %%\ny = 2\n")
    assert "differs from 00_test.py" in _problems(tmp_path)


def test_rule_every_notebook_has_its_twin(tmp_path):
    path = _pair(tmp_path, "x = 1")
    path.with_suffix(".py").unlink()
    assert "missing (every notebook is an .ipynb + py:percent pair)" in _problems(tmp_path)


def test_fix_strips_outputs_and_syncs_the_newer_file(tmp_path):
    path = _pair(tmp_path, "x = 1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    nb.cells.append(nbformat.v4.new_markdown_cell("## Added in Jupyter"))
    nbformat.write(nb, path)
    os.utime(path.with_suffix(".py"), (1, 1))  # the .py twin is older
    hygiene.fix(tmp_path)
    assert hygiene.check(tmp_path) == []
    assert "## Added in Jupyter" in path.with_suffix(".py").read_text()
    assert nbformat.read(path, as_version=4).cells[2].outputs == []


# ------------------------------------------------------------------ execution with the defaults


@pytest.fixture(scope="module")
def sample_home(acme_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project home whose data/sample/acme-motor is a built copy, so that the notebooks'
    default `client = "acme-motor"` resolves by name exactly as on an analyst's machine."""
    home = tmp_path_factory.mktemp("home")
    (home / "data" / "sample").mkdir(parents=True)
    os.symlink(acme_built, home / "data" / "sample" / "acme-motor")
    return home


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_notebook_runs_with_its_default_parameters(spec, sample_home, tmp_path, monkeypatch):
    missing = spec.missing()
    if missing:
        pytest.skip(f"{spec.name} waits for {', '.join(missing)} (not written yet)")
    import papermill

    monkeypatch.setenv("CJKIT_HOME", str(sample_home))  # inherited by the kernel
    out = tmp_path / f"{spec.name}.ipynb"
    papermill.execute_notebook(
        str(spec.path), str(out), kernel_name="python3", progress_bar=False,
        execution_timeout=300, cwd=str(tmp_path),
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    assert any(o.get("output_type") == "display_data" for c in executed.cells
               for o in c.get("outputs", [])), "the notebook displayed nothing"
