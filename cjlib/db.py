"""The engine seam: how cjkit connects to DuckDB, loads SQL files, quotes names and runs queries.

Everything that touches the database goes through `connect` and `query` (or `execute` for
statements without a result), so settings, parameter binding and the SQL shown to the analyst
stay in one place.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

Params = list[Any] | dict[str, Any] | None

# DuckDB's own buffers (spilling past them); with the interpreter, pandas and the libraries a
# process stays under 4 GiB resident (DESIGN section 8, measured by `make bench`).
DEFAULT_MEMORY_LIMIT = "3GB"


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
    temp_directory: str | Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database (in memory when path is None) with cjkit's settings.

    Settings: UTC session time zone; bounded memory with spilling; no extension is ever
    downloaded (the wheel's built-in icu, json and parquet are all cjkit uses).
    """
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
        "memory_limit": memory_limit,
    }
    if threads:
        config["threads"] = threads
    if temp_directory:
        config["temp_directory"] = str(temp_directory)
    database = ":memory:" if path is None else str(path)
    con = duckdb.connect(database, read_only=read_only, config=config)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


_IDENT_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote an identifier (column or table name) for DuckDB; the only way names enter SQL."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote a string literal, for the few places DuckDB does not accept a bound parameter
    (table-function arguments such as file paths in DDL)."""
    if "\x00" in text:
        raise ValueError("literal contains a NUL byte")
    return "'" + text.replace("'", "''") + "'"


@cache
def load_sql(package: str, name: str) -> str:
    """The text of `name`.sql shipped inside `package` (e.g. 'cjlib.ingest.sql')."""
    return resources.files(package).joinpath(f"{name}.sql").read_text(encoding="utf-8")


_NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def bind(sql: str, params: Params) -> Params:
    """The parameters a statement uses: named ones it does not mention are dropped, so one
    parameter dict can serve several related statements."""
    if not isinstance(params, dict):
        return params or None
    used = set(_NAMED.findall(re.sub(r"--[^\n]*", "", sql)))
    return {k: v for k, v in params.items() if k in used} or None


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Params) -> duckdb.DuckDBPyConnection:
    bound = bind(sql, params)
    return con.execute(sql, bound) if bound else con.execute(sql)


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pd.DataFrame:
    """Run one SELECT with bound parameters and return a DataFrame."""
    return _run(con, sql, params).df()


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> None:
    """Run one statement (DDL/DML) with bound parameters."""
    _run(con, sql, params)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    """Run a query returning one value."""
    row = _run(con, sql, params).fetchone()
    return None if row is None else row[0]
