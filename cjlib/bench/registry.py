"""The benchmark registry: each analysis is a question; each entry answers it with one engine.

A benchmark is a small registered function: `@register("funnel", "polars", requires=("polars",))`
on a function taking the `Dataset` and returning the answer as a small DataFrame (the whole
operation: read, compute, answer). `requires` names what must import (a module, or
"module:attribute"); an entry whose requirement is missing is reported as pending (cjlib
analyses still being written) or unavailable (a peer that is not installed), never skipped
silently.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

ENGINES = ("cjlib", "floor", "pandas", "polars", "chdb", "retentioneering", "duckdb")
# the tools an analyst would otherwise use (the "faster than every peer" target)
PEERS = ("pandas", "polars", "chdb", "retentioneering")
# "duckdb": the same answer in hand-written DuckDB SQL over the same warehouse, to show what
# cjlib's own query could reach; shown beside the peers, not one of the targets
CHECKED = (*PEERS, "duckdb")


@dataclass(frozen=True)
class Analysis:
    """One benchmarked question."""

    name: str
    title: str
    question: str  # what is computed, in plain words (shown in results.md)
    columns: tuple[str, ...]  # events columns it needs: the floor scans exactly these
    key: tuple[str, ...] = ()  # answer columns that identify a row (the rest are compared)
    target: bool = False  # within 3x the floor and faster than every peer at the largest size
    order: int = 0


@dataclass(frozen=True)
class Entry:
    """One engine's answer to one analysis."""

    analysis: str
    engine: str
    fn: Callable[[Any], pd.DataFrame | None]
    requires: tuple[str, ...] = ()
    semantics: str = ""  # how it matches the cjlib answer, or why it differs

    @property
    def key(self) -> tuple[str, str]:
        return (self.analysis, self.engine)


ANALYSES: dict[str, Analysis] = {}
ENTRIES: dict[tuple[str, str], Entry] = {}


def analysis(item: Analysis) -> Analysis:
    """Register an analysis (a question)."""
    ANALYSES[item.name] = item
    return item


def register(
    analysis_name: str, engine: str, *, requires: tuple[str, ...] = (), semantics: str = ""
) -> Callable[[Callable[[Any], pd.DataFrame | None]], Callable[[Any], pd.DataFrame | None]]:
    """Decorator: register `fn(dataset) -> answer` as `engine`'s answer to `analysis_name`."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")

    def decorate(fn: Callable[[Any], pd.DataFrame | None]) -> Callable[[Any], pd.DataFrame | None]:
        ENTRIES[(analysis_name, engine)] = Entry(analysis_name, engine, fn, requires, semantics)
        return fn

    return decorate


def load() -> None:
    """Import every entry module (registration happens at import)."""
    importlib.import_module("cjlib.bench.entries")


def missing(entry: Entry) -> str | None:
    """Why the entry cannot run here (None when it can)."""
    for requirement in entry.requires:
        problem = _problem(requirement)
        if problem:
            return problem
    return None


@cache
def _problem(requirement: str) -> str | None:
    """'module' must be installed (found without importing it: peers import slowly, and a broken
    install fails in the measuring subprocess, where it is reported); 'module:attribute' must
    import and define the attribute."""
    module, _, attribute = requirement.partition(":")
    if not attribute:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        return None if found else f"{module} is not installed"
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        return f"{module} cannot be imported ({exc})"
    if not hasattr(imported, attribute):
        return f"{module} has no {attribute}"
    return None


def entries_for(name: str) -> list[Entry]:
    """The entries of one analysis in engine order (cjlib, floor, then peers)."""
    return [ENTRIES[(name, e)] for e in ENGINES if (name, e) in ENTRIES]


def analyses() -> list[Analysis]:
    return sorted(ANALYSES.values(), key=lambda a: a.order)
