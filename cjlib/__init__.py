"""cjlib: customer-journey analysis over a client's DuckDB warehouse.

import cjlib
j = cjlib.open("acme-motor")                 # a built workspace -> Journey
j = cjlib.from_events(df, customer_id="user_id", ts="timestamp", event="event")
j.funnel(["quote", "purchase"], window="30d")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def open(name_or_path: str, *, read_only: bool = True) -> Any:
    """Open a client workspace's warehouse by name or path -> Journey."""
    from cjlib.journey import open_workspace

    return open_workspace(name_or_path, read_only=read_only)


def from_events(frame: Any, **kwargs: Any) -> Any:
    """A Journey over any pandas event frame (see cjlib.journey.from_events)."""
    from cjlib.journey import from_events as _from_events

    return _from_events(frame, **kwargs)


def nuggets(client: str, **kwargs: Any) -> Any:
    """Scan a client's warehouse for findings ranked by money at stake."""
    return open(client).nuggets(**kwargs)


__all__ = ["__version__", "from_events", "nuggets", "open"]
