"""`cj nuggets CLIENT`: the ranked findings of the nugget scan, in plain words."""

from __future__ import annotations

import json
import shutil
import sys

import click

from cjlib.errors import CjError


def register(cli: click.Group) -> None:
    cli.add_command(nuggets)


@click.command()
@click.argument("client")
@click.option("--top", type=int, default=None, help="Show only the N richest nuggets.")
@click.option("--candidates", "show_all", is_flag=True,
              help="Also list every candidate scanned with its q-value and verdict.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the nuggets as JSON (rank, headline, money, interval, call).")
@click.option("--q", type=float, default=None,
              help="False-discovery rate of the Benjamini-Hochberg correction (default 0.01).")
@click.option("--outcome-value", "outcome_values", multiple=True, metavar="EVENT=AMOUNT",
              help="What one bad outcome costs, e.g. complaint_opened=250 (repeatable).")
def nuggets(client: str, top: int | None, show_all: bool, as_json: bool, q: float | None,
            outcome_values: tuple[str, ...]) -> None:
    """Scan CLIENT's warehouse for nuggets: findings ranked by money at stake per year, each
    with its evidence and the cjlib call that reproduces it."""
    import cjlib

    settings: dict[str, object] = {}
    if q is not None:
        settings["q"] = q
    try:
        values = dict(_pair(text) for text in outcome_values)
        report = cjlib.open(client).nuggets(outcome_values=values or None, **settings)
    except CjError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    if as_json:
        frame = report.df.head(top) if top else report.df
        keep = ["rank", "key", "headline", "money", "money_low", "money_high", "q_value", "call"]
        click.echo(json.dumps({"client": report.client, "currency": report.currency,
                               "candidates": len(report.candidates),
                               "nuggets": json.loads(frame[keep].to_json(orient="records"))},
                              indent=2, ensure_ascii=False))
        return
    width = min(max(shutil.get_terminal_size((100, 20)).columns, 60), 120)
    click.echo(report.render(top=top, width=width, candidates=show_all))


def _pair(text: str) -> tuple[str, float]:
    event, sep, amount = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return event.strip(), float(amount)
    except ValueError:
        raise CjError(f"--outcome-value {text!r}: write EVENT=AMOUNT, e.g. "
                      "complaint_opened=250") from None
