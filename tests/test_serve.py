"""`cj serve`: the hardened Voila command, which notebook is served for a client, and the served
kernel's lock-down. The browser checks live in test_dashboard_browser.py."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from cjlib.errors import CjError
from cjlib.serve import runs
from cjlib.serve.voila import (
    CSP,
    LOCALHOST,
    ServeOptions,
    Server,
    free_port,
    install_template,
    kernel_environment,
    voila_command,
    voila_config,
)


@pytest.fixture
def notebook(tmp_path) -> Path:
    path = tmp_path / "run" / "dashboard.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


def flags(command: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in command if a.startswith("--") and "=" in a)


# ---------------------------------------------------------------------- the Voila command


def test_serves_one_notebook_file_on_localhost_without_tracebacks_or_sources(notebook, tmp_path):
    options = ServeOptions(notebook=notebook, port=9001)
    command = voila_command(options, tmp_path)
    got = flags(command)
    assert command[command.index("voila") + 1] == str(notebook.resolve())
    assert got["Voila.ip"] == LOCALHOST and got["port"] == "9001"
    assert got["show_tracebacks"] == "False" and got["strip_sources"] == "True"
    assert got["Voila.root_dir"] == str(notebook.parent.resolve())
    assert int(got["MappingKernelManager.cull_idle_timeout"]) > 0
    assert int(got["MappingKernelManager.cull_interval"]) > 0
    assert "--no-browser" in command and options.token is None
    assert options.url == "http://127.0.0.1:9001/"


def test_a_folder_is_never_served(tmp_path, notebook):
    with pytest.raises(CjError, match="one notebook file"):
        ServeOptions(notebook=notebook.parent)


def test_another_host_requires_a_token_in_the_url_and_config_not_the_command(notebook, tmp_path):
    options = ServeOptions(notebook=notebook, port=9002, host="0.0.0.0")
    assert options.token and len(options.token) >= 24
    assert options.local_url == f"http://127.0.0.1:9002/?token={options.token}"
    assert options.url.endswith(f":9002/?token={options.token}") and "0.0.0.0" not in options.url
    assert voila_config(options)["Voila"]["token"] == options.token
    assert not any(options.token in part for part in voila_command(options, tmp_path))
    assert ServeOptions(notebook=notebook, host="0.0.0.0").token != options.token


def test_no_file_of_the_run_is_served_and_the_page_may_only_talk_to_this_server(notebook):
    config = voila_config(ServeOptions(notebook=notebook))
    assert config["VoilaConfiguration"]["file_allowlist"] == []
    assert config["VoilaConfiguration"]["file_denylist"] == [".*"]
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    headers = config["Voila"]["tornado_settings"]["headers"]
    assert headers["Content-Security-Policy"] == CSP
    assert "default-src 'self'" in CSP and "connect-src 'self'" in CSP and "http" not in CSP


def test_the_kernel_environment_marks_the_dashboard_as_served(notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "client=other")
    options = ServeOptions(notebook=notebook, log_file=tmp_path / "d.log")
    env = kernel_environment(options, tmp_path / "share", "/voila/templates/cjkit/static/x.js")
    assert env["CJ_SERVE"] == "1" and env["CJ_DASHBOARD_LOG"] == str(tmp_path / "d.log")
    assert "QUERY_STRING" not in env
    assert env["JUPYTER_PATH"].split(os.pathsep)[0] == str(tmp_path / "share")
    assert env["CJ_CHART_ESM"].endswith("x.js")


def test_a_port_in_use_is_refused_not_mistaken_for_our_server(notebook):
    import socket

    with socket.socket() as taken:
        taken.bind((LOCALHOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CjError, match="already in use"):
            Server(ServeOptions(notebook=notebook, port=port))
        assert free_port(LOCALHOST, port) != port


def test_the_template_drops_cdn_links_and_ships_the_chart_bundle(tmp_path):
    path = install_template(tmp_path)
    folder = tmp_path / "voila" / "templates" / "cjkit"
    assert json.loads((folder / "conf.json").read_text()) == {"base_template": "lab"}
    template = (folder / "index.html.j2").read_text()
    assert not re.search(r"""(href|src)=["']?(https?:)?//""", template)
    assert f'<link rel="modulepreload" href="{path}">' in template
    bundle = folder / "static" / Path(path).name
    assert path.startswith("/voila/templates/cjkit/static/") and bundle.stat().st_size > 100_000
    assert "https://cdn" not in bundle.read_text()[:2000]


# ---------------------------------------------------------------------- which notebook


@pytest.fixture
def workspace(acme_built, tmp_path) -> Path:
    target = tmp_path / "acme-motor"
    shutil.copytree(acme_built, target)
    return target


def baked(path: Path, client: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"client": client}}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_the_latest_runs_dashboard_is_served(workspace, tmp_path):
    reports = tmp_path / "reports"
    run = reports / "acme-motor" / "20260101T000000Z"
    baked(run / "dashboard.ipynb", str(workspace))
    (reports / "acme-motor" / "latest").symlink_to(run.name)
    served = runs.find_or_bake(str(workspace), reports=reports)
    assert served.notebook == run.resolve() / "dashboard.ipynb" and not served.baked
    assert served.log_dir == reports / "acme-motor" / ".serve"


def test_a_run_baked_for_another_client_is_refused(workspace, tmp_path, brightside_built):
    reports = tmp_path / "reports"
    run = reports / "acme-motor" / "20260101T000000Z"
    baked(run / "dashboard.ipynb", str(brightside_built))
    (reports / "acme-motor" / "LATEST").write_text(run.name + "\n")
    with pytest.raises(runs.ServeError, match="not run for acme-motor"):
        runs.find_or_bake(str(workspace), reports=reports)
    baked(run / "dashboard.ipynb", "")  # not baked at all
    with pytest.raises(runs.ServeError):
        runs.find_or_bake(str(workspace), reports=reports)


def test_no_warehouse_no_dashboard(tmp_path, acme_built):
    target = tmp_path / "empty"
    shutil.copytree(acme_built, target, ignore=shutil.ignore_patterns("warehouse.duckdb"))
    with pytest.raises(runs.ServeError, match="cj ingest"):
        runs.find_or_bake(str(target), reports=tmp_path / "reports")


PROBE = r'''
import json, os
from pathlib import Path
probe = {"env": {k: os.environ.get(k) for k in ("QUERY_STRING", "VOILA_REQUEST_URL")}}
for name, sql in {
    "read_file": "SELECT * FROM read_text('/etc/hostname')",
    "read_raw": "SELECT * FROM read_csv('" + str(Path(client) / "raw" / "contacts.csv") + "')",
    "attach": "ATTACH '/tmp/cj-probe.duckdb'",
    "enable": "SET enable_external_access = true",
}.items():
    for label, journey in (("base", d.journey), ("filtered", d.journey.where(segment="family"))):
        try:
            journey.sql(sql)
            probe[f"{name}:{label}"] = "allowed"
        except Exception as exc:
            probe[f"{name}:{label}"] = type(exc).__name__
probe["customers"] = d.view("overview").kpis[0].value
Path("probe.json").write_text(json.dumps(probe))
'''


def test_the_served_notebooks_kernel_cannot_read_files_outside_the_workspace(workspace, tmp_path,
                                                                            monkeypatch):
    """Bake the real dashboard notebook (papermill, as `cj serve` does without a batch run) with
    a probe cell appended, in a kernel that looks served (QUERY_STRING set by the request)."""
    source = tmp_path / "dashboard-probe.ipynb"
    nb = nbformat.read(runs.source_notebook(), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    nbformat.write(nb, source)
    monkeypatch.setenv("QUERY_STRING", "client=brightside-energy")
    monkeypatch.setenv("CJ_SERVE", "1")
    monkeypatch.setenv("CJ_DASHBOARD_LOG", str(tmp_path / "dashboard.log"))
    served = runs.find_or_bake(str(workspace), reports=tmp_path / "reports", source=source)
    assert served.baked and runs.baked_parameters(served.notebook)["client"] == str(workspace)
    probe = json.loads((served.notebook.parent / "probe.json").read_text())
    for key in ("read_file", "read_raw", "attach"):
        assert probe[f"{key}:base"] == probe[f"{key}:filtered"] == "PermissionException", key
    assert probe["enable:base"] != "allowed" and probe["enable:filtered"] != "allowed"
    assert probe["env"] == {"QUERY_STRING": None, "VOILA_REQUEST_URL": None}
    assert probe["customers"] > 1000
    again = runs.find_or_bake(str(workspace), reports=tmp_path / "reports", source=source)
    assert again.notebook == served.notebook and not again.baked  # reused, not re-run
    notebook = nbformat.read(served.notebook, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells) and "widgets" not in notebook.metadata


# ---------------------------------------------------------------------- the command line


def test_cj_serve_help_and_a_plain_error_for_an_unknown_client(tmp_path, monkeypatch):
    import click

    from cjlib.cli import serve_commands

    group = click.Group()
    serve_commands.register(group)
    result = CliRunner().invoke(group, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--open / --no-open", "token"):
        assert option in result.output
    monkeypatch.setenv("CJKIT_HOME", str(tmp_path))
    result = CliRunner().invoke(group, ["serve", "no-such-client", "--no-open"])
    assert result.exit_code == 2 and "error:" in result.output
    assert "Traceback" not in result.output
