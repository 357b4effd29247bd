"""Vectorised formatting helpers (numpy StringDType arrays; '' means missing)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

S = np.dtypes.StringDType()


def s(a: np.ndarray | list) -> np.ndarray:
    """Any array -> StringDType array (an array that already is one is returned as is: callers
    never modify these arrays in place)."""
    a = np.asarray(a)
    return a if a.dtype == S else a.astype(S)


def cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of arrays and constants."""
    out = parts[0] if not isinstance(parts[0], str) else np.asarray(parts[0], dtype=S)
    for p in parts[1:]:
        out = np.strings.add(out, p if isinstance(p, str) else s(p))
    return s(out)


def zpad(a: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal strings of non-negative ints."""
    return np.strings.zfill(s(np.asarray(a, dtype=np.int64)), width)


def ts(sec: np.ndarray, fmt: str, tz: str = "UTC") -> np.ndarray:
    """Format UTC seconds in zone ``tz`` with strftime ``fmt``; negative seconds -> ''."""
    sec = np.asarray(sec, dtype=np.int64)
    arr = pa.array(np.maximum(sec, 0), pa.timestamp("s", tz=tz))
    out = s(pc.strftime(arr, format=fmt).to_numpy(zero_copy_only=False))
    if fmt.endswith("%z"):  # +0100 -> +01:00
        out = cat(np.strings.slice(out, 0, -2), ":", np.strings.slice(out, -2, None))
    return np.where(sec < 0, s(""), out).astype(S)


def money(v: np.ndarray, prefix: str, thousands: str, decimal: str, neg_inside: bool) -> np.ndarray:
    """Money like '£1,234.50' or '€ 1.234,50' (up to 999,999,999.99); NaN -> ''."""
    v = np.asarray(v, dtype=float)
    nan = np.isnan(v)
    cents = np.round(np.abs(np.nan_to_num(v)) * 100).astype(np.int64)
    units, frac = cents // 100, cents % 100
    mil, th, rest = units // 1_000_000, (units // 1000) % 1000, units % 1000
    body = np.where(
        units >= 1_000_000,
        cat(s(mil), thousands, zpad(th, 3), thousands, zpad(rest, 3)),
        np.where(units >= 1000, cat(s(th), thousands, zpad(rest, 3)), s(units)),
    )
    body = cat(body, decimal, zpad(frac, 2))
    sign = np.where(v < 0, s("-"), s(""))
    out = cat(prefix, sign, body) if neg_inside else cat(sign, prefix, body)
    return np.where(nan, s(""), out).astype(S)


def hms(sec: np.ndarray) -> np.ndarray:
    """Durations as HH:MM:SS."""
    sec = np.asarray(sec, dtype=np.int64)
    return cat(zpad(sec // 3600, 2), ":", zpad(sec // 60 % 60, 2), ":", zpad(sec % 60, 2))


def pick(idx: np.ndarray, values: tuple[str, ...] | list[str]) -> np.ndarray:
    """Map integer codes to labels."""
    return s(np.asarray(values, dtype=S)[np.asarray(idx, dtype=np.int64)])


def blank_where(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """'' where mask is true."""
    return np.where(mask, s(""), s(a)).astype(S)
