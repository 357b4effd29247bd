"""Which clients a batch runs: named ones, every workspace under data/clients/, the sample
clients, or those listed in an engagement file.

An engagement file (YAML)::

    name: Motor review Q4            # optional, shown in the summary
    parameters:                      # optional, for every client (notebook parameters)
      start: 2025-01-01
    clients:
      - acme-motor                   # a workspace name (data/clients/, then data/sample/) or path
      - path: ../clients/brightside  # relative to this file
        parameters: {end: 2025-07-01}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from cjlib import paths
from cjlib.errors import CjError, ConfigError


@dataclass
class ClientJob:
    """One client to run: how it was named, where its workspace is, its notebook parameters."""

    label: str
    location: str  # a name or a path, resolved by find_workspace in the worker
    parameters: dict[str, Any] = field(default_factory=dict)


def slug(text: str) -> str:
    """A safe folder name for reports/<client>/."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "client"


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings (notebook parameters must be plain literals)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def jobs_for_names(names: list[str], parameters: dict[str, Any] | None = None) -> list[ClientJob]:
    return [ClientJob(Path(n).name or n, n, dict(parameters or {})) for n in names]


def jobs_for_folder(folder: Path, parameters: dict[str, Any] | None = None) -> list[ClientJob]:
    """Every workspace (a folder holding client.yml) directly under `folder`."""
    if not folder.is_dir():
        return []
    return [
        ClientJob(p.name, str(p.resolve()), dict(parameters or {}))
        for p in sorted(folder.iterdir())
        if (p / paths.CONFIG_FILE).is_file()
    ]


def all_clients(parameters: dict[str, Any] | None = None) -> list[ClientJob]:
    return jobs_for_folder(paths.clients_dir(), parameters)


def sample_clients(parameters: dict[str, Any] | None = None) -> list[ClientJob]:
    return jobs_for_folder(paths.sample_dir(), parameters)


def load_engagement(path: Path, parameters: dict[str, Any] | None = None) -> tuple[str,
                                                                                  list[ClientJob]]:
    """(engagement name, its client jobs). Parameters: command line over the client's entry
    over the file's `parameters`."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such engagement file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(data, list):
        data = {"clients": data}
    if not isinstance(data, dict) or not isinstance(data.get("clients"), list):
        raise ConfigError(f"{path}: expected `clients:` with a list of workspaces")
    common = {k: _plain(v) for k, v in (data.get("parameters") or {}).items()}
    jobs = []
    for i, entry in enumerate(data["clients"]):
        if isinstance(entry, str):
            entry = {"client": entry}
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: clients[{i}] must be a name, a path or a mapping")
        where = entry.get("path") or entry.get("client") or entry.get("name")
        if not where:
            raise ConfigError(f"{path}: clients[{i}] needs `path:` or `client:`")
        where = str(where)
        relative = (path.parent / where)
        if not Path(where).is_absolute() and (relative / paths.CONFIG_FILE).is_file():
            where = str(relative.resolve())
        own = {k: _plain(v) for k, v in (entry.get("parameters") or {}).items()}
        label = str(entry.get("label") or Path(where).name)
        jobs.append(ClientJob(label, where, {**common, **own, **(parameters or {})}))
    if not jobs:
        raise CjError(f"{path}: the engagement lists no client")
    return str(data.get("name") or path.stem), jobs
