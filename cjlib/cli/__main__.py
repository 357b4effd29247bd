"""`python -m cjlib.cli` is `cj`."""

from cjlib.cli import main

main()
