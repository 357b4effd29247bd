"""Benchmark data: a sample client generated at each size (cached under bench/cache/, outside
git), its warehouse, and a Parquet copy of its events that the peers read.

Layout of one size under the cache folder:
    <size>/sample.json              what was generated (client, customers, seed, generator)
    <size>/acme-motor/              the workspace: client.yml, raw/, truth.yml, warehouse.duckdb
    <size>/events.parquet           the warehouse's events (the columns the peers need)
    <size>/ingest/                  scratch workspace the ingest benchmark builds into
Everything is reused while the generator version and the size are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cjlib import paths
from cjlib.bench.sizes import Size
from cjlib.db import connect, quote_literal, scalar

CLIENT = "acme-motor"
GENERATED_FILE = "generated.json"  # how long the cached sample took to make
PEER_COLUMNS = ("event_id", "customer_id", "ts", "event", "case_id", "channel", "source", "value")
Log = Callable[[str], None]


def default_cache() -> Path:
    """bench/cache/ in the project (git-ignored)."""
    return paths.project_root() / "bench" / "cache"


@dataclass(frozen=True)
class Dataset:
    """The files of one benchmark size (what entries read); plain paths so it crosses processes."""

    size: str
    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / CLIENT

    @property
    def warehouse(self) -> Path:
        return self.workspace / paths.WAREHOUSE_FILE

    @property
    def raw(self) -> Path:
        return self.workspace / paths.RAW_DIR

    @property
    def events_parquet(self) -> Path:
        return self.root / "events.parquet"

    @property
    def scratch(self) -> Path:
        """The workspace the ingest benchmark builds into (raw/ links to the cached files)."""
        return self.root / "ingest"

    @property
    def stamp(self) -> Path:
        return self.root / "sample.json"

    def as_dict(self) -> dict[str, str]:
        return {"size": self.size, "root": str(self.root)}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Dataset:
        return cls(data["size"], Path(data["root"]))


def _wanted_stamp(size: Size) -> dict[str, object]:
    from cjlib.sample import SAMPLE_CLIENTS
    from cjlib.sample.spec import GENERATOR_VERSION

    return {
        "client": CLIENT,
        "customers": size.customers,
        "seed": SAMPLE_CLIENTS[CLIENT].default_seed,
        "generator_version": GENERATOR_VERSION,
        "generator_source": generator_fingerprint(),
    }


def generator_fingerprint() -> str:
    """SHA-256 of the generator's source: cached data is remade whenever the generator changes,
    even without a version bump."""
    folder = Path(__file__).resolve().parents[1] / "sample"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def sample_is_cached(ds: Dataset, size: Size) -> bool:
    if not ds.stamp.is_file() or not (ds.workspace / paths.CONFIG_FILE).is_file():
        return False
    return json.loads(ds.stamp.read_text(encoding="utf-8")) == _wanted_stamp(size)


def ensure_sample(ds: Dataset, size: Size, log: Log) -> float | None:
    """Generate the sample at this size unless cached; returns the seconds spent (None: cached)."""
    if sample_is_cached(ds, size):
        return None
    from cjlib.sample import write_sample
    from cjlib.sample.generate import CHUNK, default_workers

    if ds.root.exists():
        shutil.rmtree(ds.root)
    ds.root.mkdir(parents=True)
    workers = default_workers(-(-size.customers // CHUNK))
    log(f"[{size.name}] generating {CLIENT} with {size.customers:,} customers into {ds.workspace}"
        + (f" ({workers} worker processes)" if workers > 1 else ""))
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            log(f"[{size.name}]   chunk {done}/{total} ({now - started:.0f} s)")

    write_sample(CLIENT, ds.workspace, customers=size.customers, progress=progress,
                 workers=workers)
    seconds = time.perf_counter() - started
    ds.stamp.write_text(json.dumps(_wanted_stamp(size), indent=2) + "\n", encoding="utf-8")
    (ds.root / GENERATED_FILE).write_text(
        json.dumps({"seconds": round(seconds, 1), "workers": workers}) + "\n", encoding="utf-8")
    log(f"[{size.name}] generated in {seconds:.0f} s")
    return seconds


def generation_seconds(ds: Dataset) -> float | None:
    """How long generating the cached sample took when it was made (None: not recorded)."""
    path = ds.root / GENERATED_FILE
    if not path.is_file():
        return None
    return float(json.loads(path.read_text(encoding="utf-8"))["seconds"])


def warehouse_is_current(ds: Dataset) -> bool:
    return ds.warehouse.is_file() and ds.warehouse.stat().st_mtime >= ds.stamp.stat().st_mtime


def prepare_scratch(ds: Dataset) -> Path:
    """A workspace sharing the cached raw files and salt, for the ingest benchmark to build."""
    from cjlib.config import find_workspace

    source = find_workspace(ds.workspace)
    source.salt(create=True)
    scratch = ds.scratch
    scratch.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.config_path, scratch / paths.CONFIG_FILE)
    link = scratch / paths.RAW_DIR
    if not link.is_symlink():
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(ds.raw.resolve(), target_is_directory=True)
    salt = find_workspace(scratch).salt_path
    if not salt.exists():
        shutil.copy2(source.salt_path, salt)
    return scratch


def adopt_scratch_warehouse(ds: Dataset) -> bool:
    """Use the warehouse the ingest benchmark just built (same raw files and salt) as the cached
    one, so a size is ingested once per run rather than twice."""
    built = ds.scratch / paths.WAREHOUSE_FILE
    if not built.is_file():
        return False
    os.replace(built, ds.warehouse)
    return True


def ensure_warehouse(ds: Dataset, log: Log) -> None:
    """Build the cached warehouse (untimed) unless it is current."""
    if warehouse_is_current(ds):
        return
    from cjlib.config import find_workspace
    from cjlib.ingest import build_warehouse

    log(f"[{ds.size}] building the warehouse (untimed)")
    build_warehouse(find_workspace(ds.workspace), progress=False)


def ensure_parquet(ds: Dataset, log: Log) -> None:
    """Export the events the peers read, in the warehouse's order, unless current."""
    target = ds.events_parquet
    if target.is_file() and target.stat().st_mtime >= ds.warehouse.stat().st_mtime:
        return
    log(f"[{ds.size}] exporting events to {target.name} for the peers")
    partial = target.with_suffix(".parquet.partial")
    con = connect(ds.warehouse, read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")
        columns = ", ".join(PEER_COLUMNS)
        con.execute(
            f"COPY (SELECT {columns} FROM events ORDER BY event_id) "
            f"TO {quote_literal(str(partial))} "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
    finally:
        con.close()
    os.replace(partial, target)


def describe(ds: Dataset) -> dict[str, object]:
    """Counts that say what was measured: customers, events, raw rows and bytes, file sizes."""
    con = connect(ds.warehouse, read_only=True)
    try:
        info = {
            "customers": scalar(con, "SELECT count(*) FROM customers"),
            "events": scalar(con, "SELECT count(*) FROM events"),
            "raw_rows": scalar(con, "SELECT sum(rows_read) FROM ingest_log"),
            "raw_bytes": scalar(con, "SELECT sum(bytes) FROM ingest_log"),
        }
    finally:
        con.close()
    info["warehouse_bytes"] = ds.warehouse.stat().st_size
    info["parquet_bytes"] = ds.events_parquet.stat().st_size if ds.events_parquet.exists() else 0
    info["raw_files"] = sorted(p.name for p in ds.raw.iterdir())
    return info
