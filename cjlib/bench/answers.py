"""Answers: small DataFrames that cross process boundaries as JSON and are compared exactly
(counts) or to 1e-9 relative (floating-point figures), whatever the row order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

REL_TOL = 1e-9


def to_json(df: pd.DataFrame | None) -> dict[str, Any] | None:
    """A JSON-able form of an answer frame (values as plain Python numbers and strings)."""
    if df is None:
        return None
    rows = [[_plain(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return {"columns": [str(c) for c in df.columns], "data": rows}


def from_json(data: dict[str, Any] | None) -> pd.DataFrame | None:
    if data is None:
        return None
    return pd.DataFrame(data["data"], columns=data["columns"])


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    return str(value)


def compare(answer: pd.DataFrame | None, reference: pd.DataFrame | None, key: tuple[str, ...]
            ) -> str | None:
    """None when the two answers agree, else a short description of the first differences."""
    if answer is None or reference is None:
        return None if answer is None and reference is None else "one of the answers is empty"
    a, r = from_json(to_json(answer)), from_json(to_json(reference))
    if sorted(a.columns) != sorted(r.columns):
        return f"columns differ: {sorted(a.columns)} vs {sorted(r.columns)}"
    a = a[list(r.columns)]
    order = list(key) or list(r.columns)
    a = a.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    r = r.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    if len(a) != len(r):
        extra = _rows_only_in(a, r, order) or _rows_only_in(r, a, order)
        return f"{len(a)} rows vs {len(r)} in the reference; e.g. {extra}"
    bad = np.zeros(len(r), dtype=bool)
    for column in r.columns:
        bad |= ~_equal(a[column], r[column])
    if not bad.any():
        return None
    rows = np.flatnonzero(bad)[:3]
    shown = "; ".join(
        f"{a.iloc[i].to_dict()} vs {r.iloc[i].to_dict()}" for i in rows
    )
    return f"{int(bad.sum())} of {len(r)} rows differ: {shown}"


def _equal(x: pd.Series, y: pd.Series) -> np.ndarray:
    xn, yn = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
    numeric = xn.notna().eq(x.notna()).all() and yn.notna().eq(y.notna()).all()
    if numeric:
        xv, yv = xn.to_numpy(dtype=float), yn.to_numpy(dtype=float)
        both_nan = np.isnan(xv) & np.isnan(yv)
        return both_nan | np.isclose(xv, yv, rtol=REL_TOL, atol=REL_TOL)
    return (x.astype(str) == y.astype(str)).to_numpy() | (x.isna() & y.isna()).to_numpy()


def _rows_only_in(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> str:
    merged = a[key].astype(str).merge(b[key].astype(str), how="left", indicator=True)
    only = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
    return "" if only.empty else str(only.head(3).to_dict("records"))
