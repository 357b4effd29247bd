"""`cj bench` / `make bench`: cjlib against the bare-scan floor and its peers (pandas, polars,
ClickHouse via chdb, retentioneering) at a ladder of data sizes; results in bench/results.md.

Layout: sizes (the ladder) -> data (generate, ingest, export; cached) -> registry (analyses and
their entries, one small function each, in entries/) -> measure (one entry in a subprocess:
warm-up, answer check, timed runs, peak RSS) -> runner (a whole run) -> report (results.md).
"""

from cjlib.bench.runner import BenchRun, run_bench
from cjlib.bench.sizes import DEFAULT_SIZES, LADDER, parse_sizes

__all__ = ["DEFAULT_SIZES", "LADDER", "BenchRun", "parse_sizes", "run_bench"]
