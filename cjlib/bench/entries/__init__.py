"""Benchmark entries: one module per analysis, each registering its cjlib answer and its peers'.

Import order matters only for the floor, which is registered last for every analysis that
reads the events table.
"""

from cjlib.bench.entries import funnel, ingest, latency, nuggets, paths, retention
from cjlib.bench.entries.floor import register_floors

register_floors()

__all__ = ["funnel", "ingest", "latency", "nuggets", "paths", "retention"]
