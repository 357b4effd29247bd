"""What the benchmark ran on: CPU, memory, OS, load, library versions, DuckDB settings."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

PACKAGES = ("cjkit", "duckdb", "pandas", "numpy", "pyarrow", "polars", "chdb", "retentioneering",
            "psutil")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def duckdb_settings() -> dict[str, str]:
    """The settings an analysis connection gets from cjlib.db.connect."""
    from cjlib.db import connect

    con = connect(None)
    try:
        names = ("memory_limit", "threads", "temp_directory", "max_temp_directory_size",
                 "preserve_insertion_order")
        return {n: str(con.execute(f"SELECT current_setting('{n}')").fetchall()[0][0])
                for n in names}
    finally:
        con.close()


def describe() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cpus": psutil.cpu_count(logical=False),
        "memory_bytes": memory.total,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(),
        "duckdb_settings": duckdb_settings(),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
