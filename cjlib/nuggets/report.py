"""The scan's answer: the ranked nuggets, everything scanned with its p, q and verdict, the
context facts, and what each family did; as a DataFrame, plain text (the CLI) and HTML (a
notebook)."""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cjlib.nuggets.common import money_range
from cjlib.nuggets.model import Candidate, ContextFact, Rules

FINDING_COLUMNS = ["rank", "key", "family", "headline", "money", "money_low", "money_high",
                   "effect_name", "effect", "effect_low", "effect_high", "p_value", "q_value",
                   "n", "smallest_group", "outcomes", "call"]


@dataclass
class NuggetReport:
    """Ranked findings (`findings`, shown) out of `candidates` (everything scanned)."""

    findings: list[Candidate]
    candidates: list[Candidate]
    context: list[ContextFact]
    families: dict[str, str]
    rules: Rules
    catalogue: dict[str, Any]
    currency: str
    client: str = "adhoc"
    elapsed_s: float = 0.0
    not_candidates: dict[str, str] = field(default_factory=dict)

    # ----------------------------------------------------------------- data

    @property
    def df(self) -> pd.DataFrame:
        """One row per nugget, ranked (rank 1 = most money at stake)."""
        rows = [{"rank": i, **c.as_row()} for i, c in enumerate(self.findings, start=1)]
        return pd.DataFrame(rows, columns=FINDING_COLUMNS) if rows else pd.DataFrame(
            columns=FINDING_COLUMNS)

    @property
    def candidates_df(self) -> pd.DataFrame:
        """Everything scanned: effect, p, q, whether it passed and why not."""
        return pd.DataFrame([c.as_row() for c in self.candidates])

    @property
    def n_tested(self) -> int:
        return sum(c.tested for c in self.candidates)

    @property
    def headline(self) -> str:
        families = sum(s.startswith("scanned") for k, s in self.families.items()
                       if not k.startswith("context"))
        scanned = (f"{len(self.candidates)} candidates scanned ({self.n_tested} tested) in "
                   f"{families} families")
        if not self.findings:
            return f"No nugget: none of the {scanned} clears the evidence bar."
        top = self.findings[0]
        n = len(self.findings)
        return (f"{n} nugget{'s' if n != 1 else ''} from {scanned}. Top: {top.headline}")

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.findings)

    def __getitem__(self, i: int) -> Candidate:
        return self.findings[i]

    def chart(self) -> Any:
        """Money at stake per nugget with its interval (cjlib.charts.nuggets)."""
        from cjlib.charts.nuggets import nuggets_chart

        return nuggets_chart(self.df, self.currency)

    # ----------------------------------------------------------------- text

    def render(self, top: int | None = None, width: int = 100,
               candidates: bool = False) -> str:
        """Plain text for a terminal: the nuggets, the context, what each family did."""
        out = [f"Nuggets for {self.client}: {len(self.findings)} of {len(self.candidates)} "
               f"candidates ({self.n_tested} tested) passed the evidence bar "
               f"(scan {self.elapsed_s:.1f} s).",
               _wrap(f"Evidence bar: {self.rules.describe()}.", width, ""), ""]
        shown = self.findings[:top] if top else self.findings
        if not shown:
            out.append("No finding clears the evidence bar.")
        for i, c in enumerate(shown, start=1):
            out.append(_wrap(c.headline, width, f"{i:>2}. ", "    "))
            out.append(_wrap(_facts(c, self.currency), width, "    ", "    "))
            out.append(_wrap(f"reproduce: {c.call}", width, "    ", "      "))
        if self.context:
            out += ["", "Context (descriptive, not nuggets):"]
            out += [_wrap(f.headline, width, "  - ", "    ") for f in self.context]
        out += ["", "What was scanned:"]
        out += [_wrap(f"{name}: {state}", width, "  ", "    ")
                for name, state in self.families.items()]
        if self.not_candidates:
            out.append(_wrap("Not turned into candidates: " + "; ".join(
                f"{k} ({v})" for k, v in self.not_candidates.items()), width, "  ", "    "))
        if candidates:
            out += ["", "Every candidate:"]
            for c in sorted(self.candidates, key=lambda c: (c.q_value is None, c.q_value or 1)):
                q = "untested" if c.q_value is None else f"q={c.q_value:.2g}"
                out.append(_wrap(f"[{'shown' if c.passed else q}] {c.subject}: {c.reason}",
                                 width, "  ", "    "))
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"<NuggetReport {self.client}: {self.headline}>"

    # ----------------------------------------------------------------- html

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='cj-nuggets'><p><b>{esc(self.headline)}</b></p>",
                 f"<p style='color:#4a5568'>Evidence bar: {esc(self.rules.describe())}.</p>"]
        if self.findings:
            parts.append("<ol>")
            for c in self.findings:
                parts.append(f"<li><p><b>{esc(c.headline)}</b><br>"
                             f"<span style='color:#4a5568'>{esc(_facts(c, self.currency))}"
                             f"</span></p>{_evidence_html(c)}</li>")
            parts.append("</ol>")
        else:
            parts.append("<p>No finding clears the evidence bar.</p>")
        if self.context:
            parts.append("<p><b>Context</b> (descriptive, not nuggets)</p><ul>")
            parts += [f"<li>{esc(f.headline)} <code>{esc(f.call)}</code></li>"
                      for f in self.context]
            parts.append("</ul>")
        scanned = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in self.families.items())
        table = self.candidates_df
        cols = ["family", "subject", "effect", "effect_low", "effect_high", "p_value",
                "q_value", "n", "money", "passed", "reason"]
        table_html = table[cols].to_html(index=False, float_format=lambda v: f"{v:,.3g}") \
            if len(table) else ""
        parts.append(f"<details><summary>What was scanned ({len(self.candidates)} candidates, "
                     f"{self.n_tested} tested)</summary><ul>{scanned}</ul>{table_html}"
                     "</details></div>")
        return "".join(parts)


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}"


def _facts(c: Candidate, currency: str) -> str:
    money_words = money_range(c, currency) or "no money (no value per outcome)"
    sizes = " + ".join(f"{v:,} {k}" for k, v in c.groups.items())
    q = "n/a" if c.q_value is None else f"{c.q_value:.2g}"
    return (f"money: {money_words} | {c.effect_name}: {_num(c.effect)} (95% CI {_num(c.low)} to "
            f"{_num(c.high)}) | n: {sizes} | p = {_num(c.p_value)}, q = {q}")


def _evidence_html(c: Candidate) -> str:
    esc = html.escape
    inner = [f"<p>Reproduce: <code>{esc(c.call)}</code>"]
    inner += [f"<br>Also: <code>{esc(x)}</code>" for x in c.calls]
    inner.append(f"<br>Money: {esc(c.money_basis or 'n/a')}</p>")
    if c.result is not None:
        inner.append(f"<p>{esc(c.result.headline)}</p>")
        inner.append(c.result.df.head(20).to_html(index=False,
                                                  float_format=lambda v: f"{v:,.4g}"))
        inner.append(f"<details><summary>SQL</summary><pre>{esc(c.result.sql.strip())}</pre>"
                     "</details>")
    return f"<details><summary>Evidence</summary>{''.join(inner)}</details>"


def _wrap(text: str, width: int, first: str, rest: str | None = None) -> str:
    return textwrap.fill(text, width=width, initial_indent=first,
                         subsequent_indent=first if rest is None else rest,
                         break_on_hyphens=False, break_long_words=False)


__all__ = ["NuggetReport"]
