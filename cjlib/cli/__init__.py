"""`cj`, the command line: a thin shell over cjlib's functions.

Each command group lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import click

from cjlib import __version__
from cjlib.cli import (
    batch_commands,
    bench_commands,
    nuggets_commands,
    serve_commands,
    workspace_commands,
)

COMMAND_MODULES = [
    workspace_commands,
    nuggets_commands,
    batch_commands,
    serve_commands,
    bench_commands,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cj")
def cli() -> None:
    """cjkit: ingest a client's exports, analyse customer journeys, report and present.

    \b
    A typical engagement:
      cj new acme            write data/clients/acme/ with a commented client.yml
      cj check acme          validate the mapping and the files, build nothing
      cj ingest acme         build data/clients/acme/warehouse.duckdb
      cj nuggets acme        the ranked findings
      cj run acme            every notebook into reports/acme/<run-id>/
      cj serve acme          the dashboard on http://127.0.0.1
    """


for module in COMMAND_MODULES:
    module.register(cli)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cj")
