"""The project's own promises: the two-command set-up, environment.yml in step with pyproject,
and a CLI whose every command explains itself."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from click.testing import CliRunner

from cjlib.cli import cli

from .conftest import REPO


def test_readme_opens_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert re.search(r"^make demo\b", first_block, re.M)
    assert re.search(r"^make test\b", first_block, re.M)


def test_environment_yml_installs_what_pyproject_declares():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11"
    assert project["project"]["requires-python"] == ">=3.11"
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    makefile = (REPO / "Makefile").read_text()
    extras = re.search(r"pip install --quiet -e '\.\[([a-z,]+)\]'", makefile).group(1)
    assert pip_section == [f"-e .[{extras}]"]
    assert set(extras.split(",")) <= set(project["project"]["optional-dependencies"])


def test_make_help_explains_every_target():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    described = set(re.findall(r"^([a-z][a-z-]*):.*## ", makefile, re.M))
    assert {"demo", "test", "help", "bench"} <= described
    assert targets == described
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0
    for target in described:
        assert target in out.stdout


def test_ci_calls_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", [[], *[[name] for name in sorted(cli.commands)]])
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) >= 4


def test_cj_new_then_check_reports_what_is_missing(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["new", "acme-test", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["check", str(tmp_path / "acme-test")])
    assert result.exit_code == 2
    assert "match no file" in result.output


def test_cj_runs_as_a_program():
    out = subprocess.run(
        [sys.executable, "-m", "cjlib.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: cj")
