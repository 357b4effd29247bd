"""Nuggets: a scan over the analyses for findings a client director understands, each with the
money at stake per year, its evidence (the analysis' Result: chart, table, SQL) and the call that
reproduces it, under one Benjamini-Hochberg correction over everything scanned (DESIGN section 5).

    report = cjlib.open("acme-motor").nuggets()
    report.findings      # shown, ranked by money at stake per year
    report.candidates    # everything scanned, with p, q, passed and the reason
    report.df            # the findings as a DataFrame; report.render() for a terminal

What is scanned comes from the client's data and mapping (`catalogue`): the conversion event
(kind orders), case events (a case_id carried by later events of another kind), their follow-up
contacts, test arms, started/completed step pairs, bad outcomes (kind complaints), the case
event's properties and the customers' segment and region. Families (`scan.FAMILIES`): follow-up
latency, follow-up tests, channel switches, groups converting differently (lead sources,
campaigns, channels, products, segments, regions), groups buying again differently, failing
steps, durations driving outcomes, retention breaks between cohorts. Every candidate is one
analysis call; the scan only adds the comparison statistic where the analysis reports counts.

The evidence bar (`Rules`, all must hold; the reasons):
- Benjamini-Hochberg at q = 0.01 over every candidate (untested ones count as p = 1): under no
  effect at all BH keeps the chance of any false nugget near q, and a client-facing list must
  rarely hold one (0.05 would put one in about every twentieth clean dataset);
- the 95% interval of the effect excludes no effect;
- at least 100 units in each compared group and 10 outcomes: smaller groups give intervals too
  wide to act on and approximations that fail;
- the rate changes by at least 20% (a ratio of 1.2 or 1/1.2): smaller effects are rarely worth a
  director's time and are the first to be confounded;
- a step compared with the client's other steps must fail at least twice as often and on 20%
  more of its attempts: different steps differ by nature.

Money per year is annualised over the span of the case event's data, at the value per conversion
from the data (`j.hotspots`) times the gross margin; its interval carries the effect's interval
(the value is taken as known). Descriptive facts that are not effects (the costliest drop-out
step, the least liked touchpoint) are reported apart as context, never as nuggets.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from cjlib.nuggets.model import Candidate, ContextFact, Rules
from cjlib.nuggets.report import NuggetReport
from cjlib.nuggets.scan import FAMILIES, scan

__all__ = ["FAMILIES", "Candidate", "ContextFact", "NuggetReport", "Rules", "scan"]


class _CallableModule(types.ModuleType):
    """Importing this package makes `cjlib.nuggets` the module, shadowing the function
    `cjlib.nuggets(client)` of cjlib/__init__.py; calling the module does what it did."""

    def __call__(self, client: str, **kwargs: Any) -> NuggetReport:
        from cjlib.journey import open_workspace

        return open_workspace(client).nuggets(**kwargs)


sys.modules[__name__].__class__ = _CallableModule
