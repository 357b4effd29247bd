"""The nugget scan (`j.nuggets()`): every analysis scanned for findings with a
Benjamini-Hochberg correction. cjlib only: no peer computes it. Answer: the number of findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cjlib.bench.entries.common import journey
from cjlib.bench.registry import Analysis, analysis, register

if TYPE_CHECKING:
    from cjlib.bench.data import Dataset

analysis(Analysis(
    "nuggets", "Nugget scan", "j.nuggets(): the whole scan; answer: the number of findings",
    columns=(), order=60,
))


def _count(found: Any) -> int:
    frame = getattr(found, "df", found)
    try:
        return len(frame)
    except TypeError:
        return 0


@register("nuggets", "cjlib", requires=("cjlib.nuggets:scan",), semantics="j.nuggets()")
def cjlib_nuggets(ds: Dataset) -> pd.DataFrame:
    with journey(ds) as j:
        return pd.DataFrame({"findings": [_count(j.nuggets())]})
