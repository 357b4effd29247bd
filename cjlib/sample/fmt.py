"""Vectorised formatting helpers. Text columns are Arrow ``large_string`` arrays ('' means
missing); numbers come in as numpy arrays (or pandas Series)."""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STR = pa.large_string()
Text = pa.Array  # a large_string array
EMPTY = pa.scalar("", STR)


def _num(a: Any) -> np.ndarray:
    if isinstance(a, pa.Array | pa.ChunkedArray):
        return a.to_numpy(zero_copy_only=False)
    return a.to_numpy() if isinstance(a, pd.Series) else np.asarray(a)


def s(a: Any) -> Text:
    """Any array (Arrow, numpy, pandas, list) -> a large_string array. Integers and strings
    convert as ``str()`` does; floats as numpy's ``str()`` (shortest repr)."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if isinstance(a, pa.Array) and not pa.types.is_floating(a.type):
        return a if a.type == STR else pc.cast(a, STR)
    if isinstance(a, pd.Series) and a.dtype.kind not in "biuf":
        return pa.array(a, type=STR)
    a = _num(a)
    if a.dtype.kind in "iu":
        return pc.cast(pa.array(a), STR)
    if a.dtype.kind in "fb":
        return pa.array(a.astype(np.dtypes.StringDType()), type=STR)
    return pa.array(a, type=STR)


def _arg(p: Any) -> Text | pa.Scalar:
    return pa.scalar(p, STR) if isinstance(p, str) else s(p)


def cat(*parts: Any) -> Text:
    """Element-wise string concatenation of arrays and constants (at least one array)."""
    merged: list[Any] = []
    for p in parts:  # adjacent constants as one
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return pc.binary_join_element_wise(*map(_arg, merged), EMPTY)


def where(cond: Any, a: Any, b: Any) -> Text:
    """``a`` where ``cond`` else ``b`` (arrays or constants)."""
    if not isinstance(cond, pa.BooleanArray):
        cond = np.asarray(_num(cond), dtype=bool)
    return pc.if_else(cond, _arg(a), _arg(b))


def blank_where(a: Any, mask: Any) -> Text:
    """'' where mask is true."""
    return where(mask, "", a)


def _from_fixed(m: np.ndarray, blank: np.ndarray | None = None) -> Text:
    """Rows of a uint8 matrix (ASCII) as strings; rows where ``blank`` is true become ''."""
    n, w = m.shape
    if blank is None or not blank.any():
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
        data = np.ascontiguousarray(m)
    else:
        offsets = np.r_[0, np.cumsum(np.where(blank, 0, w))].astype(np.int64)
        data = np.ascontiguousarray(m[~blank])
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


_CODE = {1: np.uint8, 2: np.uint16, 3: np.dtype("S3"), 4: np.uint32}


@functools.cache
def _digit_codes(width: int) -> np.ndarray:
    """The ASCII digits of 0 .. 10**width - 1, zero-padded, one ``width``-byte item each."""
    text = "".join(f"{i:0{width}d}" for i in range(10**width)).encode()
    return np.frombuffer(text, dtype=_CODE[width])


def _put(m: np.ndarray, col: int, v: np.ndarray, width: int) -> None:
    """Write ``v`` (non-negative ints below 10**width) as zero-padded digits into the uint8
    matrix ``m`` at column ``col``; groups of up to 4 digits go in one strided store."""
    end = col + width
    while end > col and len(m):
        w = min(end - col, 4)
        if end - w > col:
            v, r = np.divmod(v, 10**w)
        else:
            r = v
        codes = _digit_codes(w)
        view = np.ndarray((m.shape[0],), dtype=codes.dtype, buffer=m, offset=end - w,
                          strides=(m.shape[1],))
        view[...] = codes[r]
        end -= w


def zpad(a: Any, width: int) -> Text:
    """Zero-padded decimal strings of non-negative ints (wider values are not cut)."""
    v = _num(a).astype(np.int64)
    if len(v) and (v.min() < 0 or v.max() >= 10**width):
        return pc.utf8_lpad(s(v), width=width, padding="0")
    m = np.empty((len(v), width), np.uint8)
    _put(m, 0, v, width)
    return _from_fixed(m)


_TOKEN = re.compile(r"%[dmYHMSz]|[^%]")
_WIDTH = {"%d": 2, "%m": 2, "%Y": 4, "%H": 2, "%M": 2, "%S": 2}


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01 (non-negative)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def _utc_offset(sec: np.ndarray, tz: str) -> np.ndarray:
    """Seconds to add to UTC ``sec`` for local time in ``tz``."""
    if tz == "UTC" or not len(sec):
        return np.zeros(len(sec), np.int64)
    utc = pd.DatetimeIndex(sec.astype("datetime64[s]")).tz_localize("UTC")
    local = utc.tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[s]")
    return local.astype(np.int64) - sec


def ts(sec: Any, fmt: str, tz: str = "UTC") -> Text:
    """Format UTC seconds in zone ``tz`` like strftime ``fmt`` (%d %m %Y %H %M %S %z; a final
    %z as +01:00); negative seconds -> ''."""
    sec = _num(sec).astype(np.int64)
    neg = sec < 0
    tokens = _TOKEN.findall(fmt)
    if not fmt.isascii() or "".join(tokens) != fmt:
        return _ts_arrow(sec, fmt, tz)
    safe = np.maximum(sec, 0)
    off = _utc_offset(safe, tz)
    days, sod = np.divmod(safe + off, 86400)
    lo = int(days.min()) if len(days) else 0
    u = days - lo
    span = int(u.max(initial=0)) + 1
    ymd = _civil(np.arange(lo, lo + min(span, 3_000_000)))  # per day of the range
    if span > 3_000_000 or ymd[0].max() > 9999:
        return _ts_arrow(sec, fmt, tz)
    field = {"%Y": (ymd[0], u), "%m": (ymd[1], u), "%d": (ymd[2], u), "%H": (sod // 3600,),
             "%M": (sod // 60 % 60,), "%S": (sod % 60,)}
    widths = [_WIDTH.get(t, 5 if t == "%z" else 1) for t in tokens]
    if tokens and tokens[-1] == "%z":  # +0100 -> +01:00
        widths[-1] = 6
    m = np.empty((len(sec), sum(widths)), np.uint8)
    col = 0
    for t, w in zip(tokens, widths, strict=True):
        if t in field:
            f = field[t]
            _put(m, col, f[0][f[1]] if len(f) > 1 else f[0], w)
        elif t == "%z":
            m[:, col] = np.where(off < 0, ord("-"), ord("+"))
            a = np.abs(off) // 60
            _put(m, col + 1, a // 60, 2)
            if w == 6:
                m[:, col + 3] = ord(":")
            _put(m, col + w - 2, a % 60, 2)
        else:
            m[:, col] = ord(t)
        col += w
    return _from_fixed(m, neg)


def _ts_arrow(sec: np.ndarray, fmt: str, tz: str) -> Text:
    """The general (slow) path of ``ts``: Arrow's strftime."""
    arr = pa.array(np.maximum(sec, 0), pa.timestamp("s", tz=tz))
    out = s(pc.strftime(arr, format=fmt))
    if fmt.endswith("%z"):  # +0100 -> +01:00
        out = cat(pc.utf8_slice_codeunits(out, 0, -2), ":", pc.utf8_slice_codeunits(out, -2))
    return blank_where(out, sec < 0)


def money(v: Any, prefix: str, thousands: str, decimal: str, neg_inside: bool) -> Text:
    """Money like '£1,234.50' or '€ 1.234,50' (up to 999,999,999.99); NaN -> ''."""
    v = _num(v).astype(float)
    nan = np.isnan(v)
    cents = np.round(np.abs(np.nan_to_num(v)) * 100).astype(np.int64)
    units, frac = cents // 100, cents % 100
    mil, th, rest = units // 1_000_000, (units // 1000) % 1000, units % 1000
    body = where(
        units >= 1_000_000,
        cat(mil, thousands, zpad(th, 3), thousands, zpad(rest, 3)),
        where(units >= 1000, cat(th, thousands, zpad(rest, 3)), s(units)),
    )
    body = cat(body, decimal, zpad(frac, 2))
    sign = where(v < 0, "-", "")
    out = cat(prefix, sign, body) if neg_inside else cat(sign, prefix, body)
    return blank_where(out, nan)


def hms(sec: Any) -> Text:
    """Durations as HH:MM:SS."""
    sec = _num(sec).astype(np.int64)
    return cat(zpad(sec // 3600, 2), ":", zpad(sec // 60 % 60, 2), ":", zpad(sec % 60, 2))


def pick(idx: Any, values: tuple[str, ...] | list[str]) -> Text:
    """Map integer codes to labels."""
    return pc.take(pa.array(list(values), STR), pa.array(_num(idx).astype(np.int64)))


def const(n: int, value: str) -> Text:
    """A constant text column."""
    return pa.repeat(pa.scalar(value, STR), n)
