"""Run folders: reports/<client>/<run-id>/, never overwritten, and the `latest` pointer."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
LATEST = "latest"
LATEST_FILE = "LATEST"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable UTC timestamp like 20261122T203000Z."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(RUN_ID_FORMAT)


def _sort_key(name: str) -> tuple[str, int]:
    stamp, _, n = name.partition("-")
    return stamp, int(n or 1)


def create_run_dir(client_dir: Path, run_id: str | None = None) -> Path:
    """A new, empty run folder; if the id is taken (two runs in one second) a suffix -2, -3, ...
    is added, so a run never overwrites another."""
    client_dir.mkdir(parents=True, exist_ok=True)
    base = run_id or new_run_id()
    for n in range(1, 1000):
        candidate = client_dir / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"{client_dir}: could not create a new run folder for {base}")


def run_dirs(client_dir: Path) -> list[Path]:
    """Every run folder of a client, oldest first."""
    if not client_dir.is_dir():
        return []
    runs = [p for p in client_dir.iterdir()
            if p.is_dir() and not p.is_symlink() and _RUN_ID.match(p.name)]
    return sorted(runs, key=lambda p: _sort_key(p.name))


def previous_run(run_dir: Path) -> Path | None:
    """The newest earlier run of the same client that wrote its metrics."""
    earlier = [p for p in run_dirs(run_dir.parent)
               if _sort_key(p.name) < _sort_key(run_dir.name) and (p / METRICS_FILE).is_file()]
    return earlier[-1] if earlier else None


def set_latest(run_dir: Path) -> Path:
    """Point reports/<client>/latest at this run: a relative symlink, replaced atomically, or a
    LATEST file holding the run id where symlinks are unavailable."""
    client_dir = run_dir.parent
    link = client_dir / LATEST
    tmp = client_dir / f".{LATEST}.{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        if tmp.is_symlink():
            tmp.unlink()
        (client_dir / LATEST_FILE).write_text(run_dir.name + "\n", encoding="utf-8")
        return client_dir / LATEST_FILE
    (client_dir / LATEST_FILE).write_text(run_dir.name + "\n", encoding="utf-8")
    return link


def latest_run(client_dir: Path) -> Path | None:
    """The newest successful run (through the latest pointer), or None."""
    link = client_dir / LATEST
    if link.is_symlink() and link.resolve().is_dir():
        return link.resolve()
    marker = client_dir / LATEST_FILE
    if marker.is_file():
        run = client_dir / marker.read_text(encoding="utf-8").strip()
        return run if run.is_dir() else None
    return None


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
