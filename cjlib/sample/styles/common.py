"""Helpers shared by the house styles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..fmt import STR, const, s
from ..render import ID_BITS


def ev(n: int, name: str) -> pa.Array:
    """A constant event-name column."""
    return const(n, name)


def seq(df: pd.DataFrame) -> np.ndarray:
    """Unique-per-person running number of a table's rows (pid * 256 + occurrence)."""
    return df.pid.to_numpy() * 256 + df.groupby("pid").cumcount().to_numpy()


def mask(**present: np.ndarray | bool) -> np.ndarray:
    """Identifier bitmask from per-identifier presence."""
    out = 0
    for k, v in present.items():
        out = out + np.where(v, ID_BITS[k], 0)
    return np.asarray(out, dtype=np.int64)


def alt(pid: np.ndarray, salt: int, every: int) -> np.ndarray:
    """A deterministic per-person pseudo-random flag (true for about 1 in ``every``)."""
    return ((pid * 2654435761 + salt * 40503) >> 5) % every == 0


def obj(a: pa.Array | np.ndarray) -> pa.Array:
    """Strings with '' as null (for Parquet)."""
    a = s(a)
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, STR), a)
