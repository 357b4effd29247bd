"""Workspace commands: new, check, ingest, sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cjlib import paths
from cjlib.errors import CjError


def register(cli: click.Group) -> None:
    for command in (new, check, ingest, sample):
        cli.add_command(command)


def fail(error: Exception) -> None:
    """Print a cjkit error plainly (no traceback) and exit 2."""
    click.secho(f"error: {error}", fg="red", err=True)
    sys.exit(2)


@click.command()
@click.argument("name")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to create the workspace in (default: data/clients/).",
)
def new(name: str, root: Path | None) -> None:
    """Create a workspace NAME with a commented client.yml template and an empty raw/."""
    from cjlib.config.template import new_workspace

    try:
        ws = new_workspace(name, root or paths.clients_dir())
    except CjError as exc:
        fail(exc)
    click.echo(
        f"created {ws}\n  1. put the client's exports in {ws / 'raw'}/ (as received)\n"
        f"  2. edit {ws / 'client.yml'} (one entry per export)\n"
        f"  3. cj check {name}"
    )


@click.command()
@click.argument("client")
def check(client: str) -> None:
    """Validate CLIENT's mapping and files without building anything.

    Reads every file and parses every row in memory; prints what would be accepted, rejected
    and why. Exit status 0 when the mapping works (rejected rows are reported, not fatal)."""
    from cjlib.config import find_workspace
    from cjlib.ingest import check_workspace

    try:
        ws = find_workspace(client)
        report = check_workspace(ws, progress=sys.stderr.isatty())
    except CjError as exc:
        fail(exc)
    click.echo(report.render())
    click.secho("\nmapping OK: nothing was written", fg="green")


@click.command()
@click.argument("client")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def ingest(client: str, quiet: bool) -> None:
    """Build CLIENT's warehouse.duckdb from its raw exports (atomically replaced)."""
    from cjlib.config import find_workspace
    from cjlib.ingest import build_warehouse

    try:
        ws = find_workspace(client)
        report = build_warehouse(ws, progress=not quiet)
    except CjError as exc:
        fail(exc)
    if not quiet:
        click.echo(report.render())
        click.echo(f"\nwrote {ws.warehouse_path}")


@click.command()
@click.option(
    "--client", "clients", multiple=True, help="Sample client(s) to write (default: all)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default: data/sample/).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: the client's own).")
@click.option(
    "--customers",
    type=int,
    default=None,
    help="Number of customers (default: the committed sample size; up to 10M).",
)
@click.option(
    "--no-effects", is_flag=True, help="The effect-free variant: same shapes, no planted effects."
)
def sample(
    clients: tuple[str, ...],
    out: Path | None,
    seed: int | None,
    customers: int | None,
    no_effects: bool,
) -> None:
    """Write the fictional sample clients' raw exports, client.yml and truth.yml.

    Deterministic: the same options give byte-identical files."""
    from cjlib.sample import SAMPLE_CLIENTS, write_sample

    root = out or paths.sample_dir()
    names = clients or tuple(SAMPLE_CLIENTS)
    for name in names:
        if name not in SAMPLE_CLIENTS:
            fail(CjError(f"no sample client {name!r}; choose from {sorted(SAMPLE_CLIENTS)}"))
        target = write_sample(
            name, root / name, seed=seed, customers=customers, effects=not no_effects
        )
        click.echo(f"wrote {target}")
