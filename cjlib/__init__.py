"""cjlib: customer-journey analysis over a client's DuckDB warehouse."""

from __future__ import annotations

__version__ = "0.1.0"
