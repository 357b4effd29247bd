"""Batch commands: run every report notebook for one client or many (`cj run`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cjlib.errors import CjError


def register(cli: click.Group) -> None:
    cli.add_command(run)


def _parameters(pairs: tuple[str, ...], start: str | None, end: str | None) -> dict[str, object]:
    """NAME=VALUE pairs (values read as YAML: numbers, lists, null) plus --start/--end."""
    import yaml

    found: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="-p")
        parsed = yaml.safe_load(value) if value else None
        found[name] = parsed.isoformat() if hasattr(parsed, "isoformat") else parsed
    if start:
        found["start"] = start
    if end:
        found["end"] = end
    return found


@click.command()
@click.argument("clients", nargs=-1)
@click.option("--all", "run_every", is_flag=True,
              help="Every workspace under data/clients/ (or the engagement's clients).")
@click.option("--engagement", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A YAML file listing the engagement's clients (and their parameters).")
@click.option("--sample", is_flag=True, help="The sample clients in data/sample/.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Clients run at the same time, each in its own worker process.")
@click.option("--only", multiple=True, metavar="PREFIX",
              help="Only the notebooks whose name starts with PREFIX (repeatable), e.g. 00.")
@click.option("--start", default=None, help="Period start: customers first seen on/after.")
@click.option("--end", default=None, help="Period end (exclusive).")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="Any other notebook parameter, e.g. -p window=14d (repeatable).")
@click.option("--timeout", type=float, default=600, show_default=True,
              help="Seconds a notebook cell may run before it is stopped.")
@click.option("--ingest", is_flag=True, help="Build each client's warehouse first.")
@click.option("--notebooks", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of report notebooks (default: notebooks/).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Reports folder (default: reports/).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def run(clients: tuple[str, ...], run_every: bool, engagement: Path | None, sample: bool,
        jobs: int, only: tuple[str, ...], start: str | None, end: str | None,
        params: tuple[str, ...], timeout: float, ingest: bool, notebooks: Path | None,
        out: Path | None, quiet: bool) -> None:
    """Run every report notebook for CLIENTS into reports/<client>/<run-id>/.

    \b
    Each run writes the executed notebooks, a self-contained HTML page per notebook (no code, no
    network needed), index.html with the top findings and what changed since the previous run,
    metrics.json and run.json; reports/<client>/latest points at the newest complete run.
    \b
      cj run acme-motor
      cj run --all --engagement engagement.yml --jobs 2
      cj run --sample --ingest
    Exit status 1 if any notebook or client failed (the others still run), 2 on a usage error.
    """
    from cjlib.batch import run_all

    chosen = sum([bool(clients), sample, engagement is not None])
    if chosen > 1 or (clients and run_every):
        raise click.UsageError("name CLIENTS, or use --all, --sample or --engagement: one of them")
    if not (clients or run_every or sample or engagement):
        raise click.UsageError("name a CLIENT, or use --all, --sample or --engagement FILE")
    try:
        batch = run_all(
            list(clients) or None, engagement=engagement, sample=sample,
            parameters=_parameters(params, start, end), jobs=jobs, notebooks=notebooks,
            only=list(only) or None, reports=out, timeout=timeout, ingest=ingest,
            progress=not quiet and sys.stderr.isatty(),
        )
    except CjError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    if not batch.clients:
        click.secho("error: no client to run (no workspace found)", fg="red", err=True)
        sys.exit(2)
    click.echo("\n" + batch.summary())
    sys.exit(0 if batch.ok else 1)
