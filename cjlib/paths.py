"""Every path cjkit uses by default, in one place."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The project folder: $CJKIT_HOME if set, else the nearest parent of cwd holding data/ or
    pyproject.toml, else cwd."""
    env = os.environ.get("CJKIT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() or (folder / "data" / "sample").is_dir():
            return folder
    return here


def clients_dir() -> Path:
    """Where real client workspaces live (git-ignored)."""
    return project_root() / "data" / "clients"


def sample_dir() -> Path:
    """Where the generated sample clients live (committed)."""
    return project_root() / "data" / "sample"


def reports_dir() -> Path:
    """Where batch runs write their reports."""
    return project_root() / "reports"


WAREHOUSE_FILE = "warehouse.duckdb"
CONFIG_FILE = "client.yml"
RAW_DIR = "raw"
