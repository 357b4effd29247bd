"""Benchmark command: cj bench."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from cjlib.errors import CjError


def register(cli: click.Group) -> None:
    cli.add_command(bench)


_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*(GiB|GB|MiB|MB|G|M)?$", re.I)


def parse_bytes(text: str) -> int:
    """'8GiB', '8G', '512MiB' -> bytes (powers of 1024)."""
    match = _BYTES.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r}: give a size such as 8GiB or 512MiB")
    unit = (match.group(2) or "G").lower()[0]
    return int(float(match.group(1)) * (2**30 if unit == "g" else 2**20))


def _names(text: str | None) -> set[str] | None:
    return {t.strip() for t in text.split(",") if t.strip()} if text else None


@click.command()
@click.option("--sizes", default=None,
              help="Comma-separated sizes: tiny, 1M, 10M, 100M or an event count such as 3M "
                   "(default: 1M,10M,100M).")
@click.option("--only", default=None,
              help="Comma-separated analyses (ingest, funnel, funnel_first, latency, paths, "
                   "retention, nuggets; default: all).")
@click.option("--engines", default=None,
              help="Comma-separated engines besides the floor (cjlib, pandas, polars, chdb, "
                   "retentioneering; default: all).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where generated data is kept and reused (default: bench/cache/).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The results file (default: bench/results.md).")
@click.option("--max-rss", default="8GiB", show_default=True,
              help="Stop a measured subprocess whose resident memory passes this.")
@click.option("--in-process", is_flag=True,
              help="Run entries in this process (quick check: no memory figures, no limits).")
@click.option("--report-only", is_flag=True,
              help="Only rewrite the results file from the last run's measurements.")
@click.option("--append", is_flag=True,
              help="Keep the last run's other measurements in the results: the sizes and "
                   "analyses this invocation does not measure (a long ladder in several "
                   "invocations, or one analysis measured again).")
def bench(sizes: str | None, only: str | None, engines: str | None, cache: Path | None,
          out: Path | None, max_rss: str, in_process: bool, report_only: bool,
          append: bool) -> None:
    """Benchmark cjlib against a bare DuckDB scan and its peers; write bench/results.md.

    \b
    For each size: generate (or reuse) the acme-motor sample, time ingest, then each analysis
    (funnel, latency effect, paths, retention, nugget scan) in cjlib, the floor, pandas, polars,
    ClickHouse (chdb) and retentioneering. Every peer's answer is checked equal to cjlib's before
    it is timed. A full run (1M, 10M, 100M events) takes up to an hour on 2 cores.
    """
    from cjlib import paths
    from cjlib.bench import parse_sizes, run_bench
    from cjlib.bench.registry import ANALYSES, ENGINES, load

    load()
    try:
        ladder = parse_sizes(sizes)
        chosen, engine_set = _names(only), _names(engines)
        unknown = (chosen or set()) - set(ANALYSES) | (engine_set or set()) - set(ENGINES)
        if unknown:
            raise CjError(f"unknown analysis or engine: {', '.join(sorted(unknown))}")
    except CjError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    target = out or paths.project_root() / "bench" / "results.md"
    if report_only:
        _rewrite(cache, target)
        return
    given = {"--sizes": sizes, "--only": only, "--engines": engines}
    command = "cj bench" + "".join(f" {k} {v}" for k, v in given.items() if v)
    command += " --append" if append else ""
    run = run_bench(ladder, cache=cache, out=target, only=chosen, engines=engine_set,
                    isolate=not in_process, max_rss=parse_bytes(max_rss), command=command,
                    append=append, log=lambda line: click.echo(line, err=True))
    failed = [m for m in run.measurements if m.status in ("mismatch", "error")]
    click.echo(f"wrote {target}")
    if failed:
        click.secho(f"{len(failed)} entr{'y' if len(failed) == 1 else 'ies'} failed or disagreed "
                    "with cjlib (see the 'Not measured' section)", fg="yellow", err=True)


def _rewrite(cache: Path | None, target: Path) -> None:
    """results.md again from bench/cache/last-run.json (after a change to the report's layout)."""
    import json

    from cjlib.bench.data import default_cache
    from cjlib.bench.report import write_report
    from cjlib.bench.runner import BenchRun

    saved = (cache or default_cache()) / "last-run.json"
    if not saved.is_file():
        click.secho(f"error: no saved run at {saved}", fg="red", err=True)
        sys.exit(2)
    write_report(BenchRun.from_dict(json.loads(saved.read_text(encoding="utf-8"))), target)
    click.echo(f"wrote {target}")
