"""`cj new`: a fresh workspace with a commented client.yml."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from cjlib import paths
from cjlib.errors import ConfigError


def template_text(client: str) -> str:
    """The commented client.yml template for `client`."""
    text = resources.files("cjlib.config").joinpath("client_template.yml").read_text("utf-8")
    return text.format(client=client)


def new_workspace(name: str, root: Path) -> Path:
    """Create root/name/ with client.yml and raw/; refuses to overwrite an existing workspace."""
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
        raise ConfigError(f"{name!r}: use lower-case letters, digits and '-' (e.g. 'acme-motor')")
    folder = root / name
    if (folder / paths.CONFIG_FILE).exists():
        raise ConfigError(f"{folder / paths.CONFIG_FILE} already exists; not overwriting it")
    (folder / paths.RAW_DIR).mkdir(parents=True, exist_ok=True)
    (folder / paths.CONFIG_FILE).write_text(template_text(name), encoding="utf-8")
    (folder / ".gitignore").write_text("warehouse.duckdb\n.warehouse.duckdb.*\n.salt\n")
    return folder
