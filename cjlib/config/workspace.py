"""A client workspace: its folder, its validated client.yml, its salt and its warehouse."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError

from cjlib import paths
from cjlib.config.schema import ClientConfig
from cjlib.errors import ConfigError, WorkspaceNotFound


@dataclass(frozen=True)
class Workspace:
    """One client's folder: client.yml, raw/ and the built warehouse."""

    root: Path

    @cached_property
    def config(self) -> ClientConfig:
        return load_config(self.config_path)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def config_path(self) -> Path:
        return self.root / paths.CONFIG_FILE

    @property
    def raw_dir(self) -> Path:
        return self.root / paths.RAW_DIR

    @property
    def warehouse_path(self) -> Path:
        return self.root / paths.WAREHOUSE_FILE

    @property
    def salt_path(self) -> Path:
        salt = Path(self.config.salt_file).expanduser()
        return salt if salt.is_absolute() else self.root / salt

    def salt(self, *, create: bool = False) -> str:
        """The client's pseudonymisation salt; created (random, 256 bits) on first ingest."""
        path = self.salt_path
        if path.exists():
            value = path.read_text(encoding="utf-8").strip()
            if len(value) < 16:
                raise ConfigError(f"{path}: the salt is too short (at least 16 characters)")
            return value
        if not create:
            raise ConfigError(f"{path}: no salt yet; `cj ingest` creates one on first build")
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
        return value


def find_workspace(name_or_path: str | Path) -> Workspace:
    """A workspace by path, or by name under data/clients/ then data/sample/."""
    candidate = Path(name_or_path).expanduser()
    places = [candidate]
    if not candidate.is_absolute() and len(candidate.parts) == 1:
        places += [paths.clients_dir() / candidate, paths.sample_dir() / candidate]
    for place in places:
        if (place / paths.CONFIG_FILE).is_file():
            return Workspace(place.resolve())
    looked = ", ".join(str(p) for p in places)
    raise WorkspaceNotFound(
        f"no client workspace {str(name_or_path)!r}: looked for {paths.CONFIG_FILE} in {looked}"
    )


def list_workspaces(root: Path | None = None) -> list[Workspace]:
    """Every workspace directly under root (default: data/clients/)."""
    folder = root or paths.clients_dir()
    if not folder.is_dir():
        return []
    return [
        Workspace(p.resolve())
        for p in sorted(folder.iterdir())
        if (p / paths.CONFIG_FILE).is_file()
    ]


def load_config(path: Path) -> ClientConfig:
    """Read and validate client.yml, turning every problem into one readable ConfigError."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (client, name, sources, ...)")
    try:
        return ClientConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid mapping\n{_describe(exc, data)}") from None


def _describe(exc: ValidationError, data: dict) -> str:
    lines = []
    for err in exc.errors():
        loc = _location(err["loc"], data)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against docs/client-yml.md)"
        lines.append(f"  - {loc}: {message}")
    return "\n".join(lines)


def _location(loc: tuple, data: dict) -> str:
    """Render a pydantic location, naming sources by their name rather than index."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            name = (
                node[key].get("name")
                if isinstance(node, list) and isinstance(node[key], dict)
                else None
            )
            parts[-1] = f"{parts[-1]}[{name!r}]" if name else f"{parts[-1]}[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            if str(key) in ("str", "FieldSpec", "function-before[_from_string(), FieldSpec]"):
                continue
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"
