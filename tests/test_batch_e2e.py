"""End to end: `run_all` over the sample clients and a deliberately broken one, in worker
processes; the HTML is offline and code-free, parameters are injected, clients stay isolated,
no raw contact detail reaches a report, a failing notebook fails only itself; `cj run`."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import click
import nbformat
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cjlib.batch import discover, run_all, run_client
from cjlib.batch import runs as runs_module
from cjlib.cli import batch_commands
from cjlib.config import find_workspace
from cjlib.report.html import remote_references

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
pytestmark = pytest.mark.slow  # a full batch over two sample clients
# bounded repetitions: long base64 or digit runs must not make the scans quadratic
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,6}")
DIGITS = re.compile(r"\+?\d[\d ()-]{8,20}\d")
DATA_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")


# ------------------------------------------------------------------ helpers


def raw_text(ws: Path) -> str:
    """Every raw export of a workspace as text (spreadsheets and Parquet through pandas)."""
    parts = []
    for path in sorted((ws / "raw").iterdir()):
        if path.suffix in (".xlsx", ".xls"):
            frames = pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine")
            parts += [f.to_csv(index=False) for f in frames.values()]
        elif path.suffix == ".parquet":
            parts.append(pd.read_parquet(path).astype(str).to_csv(index=False))
        else:
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _mapped_columns(ws: Path, kind: str) -> list[tuple[Path, dict, str]]:
    """(file, read options, column) for every source field mapped as `kind` (email, phone)."""
    config = yaml.safe_load((ws / "client.yml").read_text(encoding="utf-8"))
    found = []
    for source in config["sources"]:
        spec = source.get("fields", {}).get(kind)
        if spec is None:
            continue
        column = spec if isinstance(spec, str) else spec.get("column")
        for path in sorted(ws.glob(source["files"])):
            found.append((path, source.get("read") or {}, column))
    return found


def _column_values(path: Path, read: dict, column: str) -> list[str]:
    fmt = read.get("format") or {".xlsx": "xlsx", ".parquet": "parquet",
                                 ".jsonl": "jsonl"}.get(path.suffix, "csv")
    if fmt == "xlsx":
        frame = pd.read_excel(path, sheet_name=read.get("sheet", 0), dtype=str,
                              engine="calamine")
    elif fmt == "parquet":
        frame = pd.read_parquet(path).astype(str)
    elif fmt == "jsonl":
        frame = pd.read_json(path, lines=True, dtype=str)
    else:
        frame = pd.read_csv(path, sep=read.get("delimiter"), engine="python", dtype=str,
                            encoding=read.get("encoding", "utf-8-sig"))
    return [v for v in frame[column].dropna().astype(str) if v.strip()]


def contact_details(ws: Path) -> tuple[set[str], set[str]]:
    """(emails, phone numbers as their last 9 digits) in a workspace's raw files: every email
    anywhere in them, and every value of the columns mapped as phone numbers."""
    emails = {e.lower() for e in EMAIL.findall(raw_text(ws))}
    phones = set()
    for path, read, column in _mapped_columns(ws, "phone"):
        for value in _column_values(path, read, column):
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 9:
                phones.add(digits[-9:])
    return emails, phones


def report_text(run_dir: Path) -> str:
    """Every file of a run as text, with the base64 SVG charts of the HTML pages decoded."""
    parts = []
    for path in sorted(run_dir.iterdir()):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(DATA_URI.sub(
                lambda m: base64.b64decode(m.group(1)).decode("utf-8", "replace"), text))
    return "\n".join(parts)


def leaked(text: str, emails: set[str], phones: set[str]) -> list[str]:
    found = [e for e in EMAIL.findall(text) if e.lower() in emails]
    found += [d for d in DIGITS.findall(text) if re.sub(r"\D", "", d)[-9:] in phones]
    return found


# ------------------------------------------------------------------ the batch


@pytest.fixture(scope="module")
def batch(acme_built: Path, brightside_built: Path, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("batch")
    broken = base / "broken-client"
    broken.mkdir()
    shutil.copy(acme_built / "client.yml", broken / "client.yml")
    text = (broken / "client.yml").read_text(encoding="utf-8")
    (broken / "client.yml").write_text(text.replace("client: acme-motor", "client: broken-client"),
                                       encoding="utf-8")
    (broken / "warehouse.duckdb").write_bytes(b"this is not a database" * 100)
    engagement = base / "engagement.yml"
    engagement.write_text(yaml.safe_dump({
        "name": "test engagement",
        "clients": [str(acme_built), {"path": str(broken)}, str(brightside_built)],
    }), encoding="utf-8")
    reports = base / "reports"
    result = run_all(engagement=engagement, jobs=2, reports=reports, progress=False,
                     timeout=300)
    return {"result": result, "reports": reports, "acme": acme_built,
            "brightside": brightside_built, "broken": broken, "engagement": engagement}


def _client(batch, label):
    return next(c for c in batch["result"].clients if c.label == label)


def test_a_broken_client_fails_the_batch_but_not_the_others(batch):
    result = batch["result"]
    assert [c.label for c in result.clients] == ["acme-motor", "broken-client",
                                                 "brightside-energy"]
    broken = _client(batch, "broken-client")
    assert broken.status == "failed" and broken.error
    assert not result.ok
    assert any(f.startswith("broken-client:") for f in result.failures())
    assert "broken-client" in result.summary() and "failed" in result.summary()


def test_every_notebook_ran_or_waits_for_a_missing_analysis(batch):
    specs = {s.name: s for s in discover()}
    for label in ("acme-motor", "brightside-energy"):
        client = _client(batch, label)
        assert [n.name for n in client.notebooks] == list(specs)
        for nb in client.notebooks:
            if specs[nb.name].missing():
                assert nb.status == "skipped" and "not available yet" in nb.error
            else:
                assert nb.status == "ok", f"{label}/{nb.name}: {nb.error}"
        assert client.ok


def test_each_run_writes_notebooks_pages_index_metrics_and_latest(batch):
    for label in ("acme-motor", "brightside-energy"):
        client = _client(batch, label)
        run_dir = Path(client.run_dir)
        assert run_dir.parent == batch["reports"] / label
        assert (run_dir / "index.html").is_file()
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["measures"]["events"]["value"] > 0
        run_json = json.loads((run_dir / "run.json").read_text())
        assert run_json["status"] == client.status
        index = (run_dir / "index.html").read_text()
        for nb in client.notebooks:
            if nb.status == "ok":
                assert (run_dir / f"{nb.name}.ipynb").is_file()
                assert (run_dir / f"{nb.name}.html").is_file()
                assert f'href="{nb.name}.html"' in index
        latest = runs_module.latest_run(run_dir.parent)
        assert (latest == run_dir.resolve()) == client.ok


def test_pages_need_no_network_and_show_no_code(batch):
    client = _client(batch, "acme-motor")
    run_dir = Path(client.run_dir)
    pages = sorted(run_dir.glob("*.html"))
    assert len(pages) >= 2
    sources = []
    for nb in client.notebooks:
        if nb.ipynb:
            executed = nbformat.read(run_dir / nb.ipynb, as_version=4)
            sources += [line.strip() for c in executed.cells if c.cell_type == "code"
                        for line in c.source.splitlines() if len(line.strip()) > 12]
    assert sources
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert remote_references(text) == [], page.name
        assert "<script" not in text.lower(), page.name
        assert "<link" not in text.lower(), page.name
        for marker in ("jp-InputArea", "input_area", "class=\"highlight", "In&nbsp;["):
            assert marker not in text, (page.name, marker)
        shown = [s for s in sources if s in text]
        assert shown == [], (page.name, shown[:3])


def test_pages_carry_the_clients_branding(batch):
    for label, ws in (("acme-motor", batch["acme"]), ("brightside-energy", batch["brightside"])):
        config = find_workspace(ws).config
        run_dir = Path(_client(batch, label).run_dir)
        for page in run_dir.glob("*.html"):
            text = page.read_text(encoding="utf-8")
            assert f"--primary: {config.branding.primary}" in text
            assert config.name in text


def test_charts_are_inline_images_in_the_clients_colours(batch):
    run_dir = Path(_client(batch, "acme-motor").run_dir)
    text = (run_dir / "00_data_health.html").read_text(encoding="utf-8")
    svgs = [base64.b64decode(b).decode() for b in DATA_URI.findall(text)]
    assert len(svgs) >= 4
    primary = find_workspace(batch["acme"]).config.branding.primary.lower()
    assert any(primary in s.lower() for s in svgs)


def test_parameters_are_injected(batch):
    client = _client(batch, "acme-motor")
    executed = nbformat.read(Path(client.run_dir) / "00_data_health.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f"client = {str(batch['acme'].resolve())!r}".replace("'", '"') in injected[0].source
    assert "static_charts = True" in injected[0].source
    assert executed.metadata["papermill"]["parameters"]["static_charts"] is True


def test_clients_stay_isolated(batch):
    texts = {label: report_text(Path(_client(batch, label).run_dir))
             for label in ("acme-motor", "brightside-energy")}
    for label, ws in (("acme-motor", batch["acme"]), ("brightside-energy", batch["brightside"])):
        canaries = yaml.safe_load((ws / "truth.yml").read_text(encoding="utf-8"))["canaries"]
        assert canaries
        other = next(t for k, t in texts.items() if k != label)
        for canary in canaries:
            assert canary in texts[label], f"{canary} missing from {label}'s own report"
            assert canary not in other, f"{label}'s canary {canary} leaked"


def test_no_raw_email_or_phone_in_any_report_file(batch):
    for label in ("acme-motor", "brightside-energy"):
        emails, phones = contact_details(batch["acme" if label == "acme-motor" else "brightside"])
        assert len(emails) > 100 and len(phones) > 100
        for run_dir in (batch["reports"] / label).iterdir():
            if run_dir.is_dir() and not run_dir.is_symlink():
                assert leaked(report_text(run_dir), emails, phones) == []


def test_leak_check_would_catch_a_leak(batch):
    emails, phones = contact_details(batch["acme"])
    email, phone_tail = sorted(emails)[0], sorted(phones)[0]
    assert leaked(f"<td>{email}</td>", emails, phones) == [email]
    assert leaked(f"<td>+44 {phone_tail}</td>", emails, phones)


def test_second_run_shows_what_changed(batch):
    first = Path(_client(batch, "acme-motor").run_dir)
    metrics = json.loads((first / "metrics.json").read_text())
    metrics["measures"]["events"]["value"] -= 100  # as if the previous data had 100 fewer
    (first / "metrics.json").write_text(json.dumps(metrics))
    second = run_client(batch["acme"], reports=batch["reports"], notebooks=discover(only=["00"]))
    assert second.ok and Path(second.run_dir) != first
    assert sorted(p.name for p in runs_module.run_dirs(first.parent)) == \
        sorted([first.name, Path(second.run_dir).name])
    index = (Path(second.run_dir) / "index.html").read_text(encoding="utf-8")
    assert f"Compared with run {first.name}" in index
    events = metrics["measures"]["events"]["value"]
    assert f"{events:,}" in index and f"{events + 100:,}" in index and "+100" in index
    assert runs_module.latest_run(first.parent) == Path(second.run_dir).resolve()


# ------------------------------------------------------------------ a failing notebook; the CLI


def test_cli_run_isolates_a_failing_notebook_and_exits_non_zero(batch, tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "00_data_health.ipynb", folder)
    bad = nbformat.read(NOTEBOOKS / "00_data_health.ipynb", as_version=4)
    bad.cells = [*bad.cells[:3], nbformat.v4.new_code_cell("1 / 0")]
    bad.cells[0].source = "# Deliberately broken"
    nbformat.write(bad, folder / "05_broken.ipynb")
    group = click.Group()
    batch_commands.register(group)
    out = tmp_path / "reports"
    result = CliRunner().invoke(group, [
        "run", str(batch["acme"]), "--notebooks", str(folder), "--out", str(out), "--quiet",
        "--jobs", "1", "--timeout", "120"])
    assert result.exit_code == 1, result.output
    assert "05_broken: ZeroDivisionError" in result.output
    run_dir = next((out / "acme-motor").glob("2*"))
    assert (run_dir / "00_data_health.html").is_file()
    assert not (run_dir / "05_broken.html").exists() and (run_dir / "05_broken.ipynb").is_file()
    assert runs_module.latest_run(out / "acme-motor") is None  # not a complete run


def test_cli_usage_errors_exit_2():
    group = click.Group()
    batch_commands.register(group)
    assert CliRunner().invoke(group, ["run"]).exit_code == 2
    assert CliRunner().invoke(group, ["run", "x", "--sample"]).exit_code == 2
