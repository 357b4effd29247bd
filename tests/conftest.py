"""Shared fixtures: tiny workspaces written on the fly, and built copies of the sample clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cjlib.config import find_workspace
from cjlib.ingest import build_warehouse

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "sample"
REALDATA = REPO.parent / "shared" / "realdata"

BASE_CONFIG: dict[str, Any] = {
    "client": "tiny",
    "name": "Tiny Ltd",
    "timezone": "Europe/London",
    "country": "GB",
    "currency": "GBP",
    "gross_margin": 0.3,
}


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Write a workspace: sources (client.yml entries) and files {relative path: text or bytes}."""

    def make(sources: list[dict], files: dict[str, str | bytes], **config: Any) -> Path:
        root = tmp_path / config.get("client", "tiny")
        (root / "raw").mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        document = {**BASE_CONFIG, **config, "sources": sources}
        (root / "client.yml").write_text(yaml.safe_dump(document, sort_keys=False))
        return root

    return make


def _built_copy(tmp_path_factory: pytest.TempPathFactory, client: str) -> Path:
    source = SAMPLE_DIR / client
    if not (source / "client.yml").exists():
        pytest.skip(f"sample client {client} not generated (run `cj sample`)")
    target = tmp_path_factory.mktemp("samples") / client
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("warehouse.duckdb", ".salt"))
    build_warehouse(find_workspace(target), progress=False)
    return target


@pytest.fixture(scope="session")
def acme_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the acme-motor sample workspace (once per test session/worker)."""
    return _built_copy(tmp_path_factory, "acme-motor")


@pytest.fixture(scope="session")
def brightside_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the brightside-energy sample workspace."""
    return _built_copy(tmp_path_factory, "brightside-energy")
