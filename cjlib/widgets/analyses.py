"""Calling an analysis from a dashboard section, whether or not it has landed yet.

Sections call the Journey methods (`j.funnel(...)`, `j.latency_effect(...)`, ...). An analysis
whose module is not importable yet raises `NotAvailable`, which the section shows as a friendly
empty state; the moment the module lands the section works. Optional arguments are passed only
when the analysis accepts them, so a section never breaks on an argument an analysis lacks.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Sequence
from typing import Any

from cjlib.errors import CjError

# Journey method -> (module, function) it delegates to; read from cjlib/journey.py on first use
# (so this never goes stale), or set here (tests).
TARGETS: dict[str, tuple[str, str]] = {}
_DELEGATION = re.compile(r"from\s+(cjlib[\w.]*)\s+import\s+(\w+)")


class NotAvailable(CjError):
    """The analysis behind a section is not part of this installation (yet)."""


def _is_missing_cjlib(exc: ImportError) -> bool:
    name = exc.name or ""
    return name == "cjlib" or name.startswith("cjlib.")


def delegate(method: str) -> tuple[str, str]:
    """The (module, function) a Journey method delegates to."""
    if method not in TARGETS:
        from cjlib.journey import Journey

        found = _DELEGATION.search(inspect.getsource(getattr(Journey, method)))
        if found is None:
            raise NotAvailable(f"Journey.{method} delegates to no cjlib function")
        TARGETS[method] = (found.group(1), found.group(2))
    return TARGETS[method]


def target(method: str) -> Any:
    """The analysis function behind a Journey method; NotAvailable when it is not importable."""
    module_name, function = delegate(method)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if _is_missing_cjlib(exc):
            raise NotAvailable(f"{module_name} is not installed") from exc
        raise
    fn = getattr(module, function, None)
    if fn is None:
        raise NotAvailable(f"{module_name}.{function} is not defined yet")
    return fn


def available(method: str) -> bool:
    try:
        target(method)
    except NotAvailable:
        return False
    return True


Option = Sequence[tuple[str, Any]]


def accepted(fn: Any, options: dict[str, Option]) -> dict[str, Any]:
    """For each option, the first (name, value) alternative `fn` accepts (keyword arguments)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    names = {p.name for p in parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    chosen: dict[str, Any] = {}
    for alternatives in options.values():
        for name, value in alternatives:
            if name in names:
                chosen[name] = value
                break
        else:
            if var_kw and alternatives:
                name, value = alternatives[0]
                chosen[name] = value
    return chosen


def call(journey: Any, method: str, *args: Any, options: dict[str, Option] | None = None,
         **kwargs: Any) -> Any:
    """`journey.<method>(*args, **kwargs, **<accepted options>)`, or NotAvailable."""
    fn = target(method)
    extra = accepted(fn, options or {})
    try:
        return getattr(journey, method)(*args, **kwargs, **extra)
    except ImportError as exc:
        if _is_missing_cjlib(exc):
            raise NotAvailable(str(exc)) from exc
        raise
