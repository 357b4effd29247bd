"""`python -m cjlib.bench.child SPEC OUT`: the subprocess that measures one benchmark entry."""

from __future__ import annotations

import sys

from cjlib.bench.measure import child_main

if __name__ == "__main__":
    child_main(sys.argv[1], sys.argv[2])
