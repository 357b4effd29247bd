"""Shared machinery of the house-style renderers: file styles, planted messiness, writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .fmt import S, cat, s
from .xlsx import write_xlsx

ID_BITS = {"cookie_id": 1, "email": 2, "phone": 4, "crm_id": 8, "account_no": 16}
FORMULA = "=cmd|' /C calc'!A0"
FUTURE_TS = 1_956_528_000  # 2032-01-01T00:00:00Z: beyond 2030


@dataclass
class Rendered:
    """One chunk of an export: column arrays plus, per row, the truth behind it."""

    cols: dict[str, np.ndarray]
    pid: np.ndarray
    ts: np.ndarray  # primary timestamp (sort key)
    idmask: np.ndarray  # ID_BITS of identifiers present in the row
    ev1: np.ndarray  # canonical event of the row
    ev2: np.ndarray | None = None  # second event of a two-step row ('' if none)


@dataclass
class FileStyle:
    """One export file: how it is built from the world, written, and broken."""

    file: str
    source: str
    kind: str
    fmt: str  # csv | xlsx | parquet | jsonl
    build: Callable[[dict[str, pd.DataFrame]], Rendered]
    yml: dict[str, Any]
    ts_col: str
    ts_fmt: Callable[[np.ndarray], np.ndarray] | None = None
    bad_ts: str = "31/02/2024 25:61"
    money_col: str | None = None
    money_fmt: Callable[[np.ndarray], np.ndarray] | None = None
    id_cols: tuple[str, ...] = ()
    phone_col: str | None = None
    text_col: str | None = None
    numeric_cols: tuple[str, ...] = ()  # jsonl: written as JSON numbers
    delimiter: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    truncate_last: bool = False
    sheet: str = "Sheet1"
    parquet_schema: dict[str, pa.DataType] = field(default_factory=dict)

    def reasons(self) -> list[str]:
        """The broken-row reasons this file can carry."""
        out = []
        typed = self.fmt == "parquet"
        if not typed:
            out.append("bad_timestamp")
        if self.money_col and not typed and self.fmt != "jsonl":
            out.append("bad_money")
        if self.money_col:
            out.append("negative_money")
        out += ["no_identifier", "future_timestamp"]
        if self.phone_col:
            out.append("bad_phone")
        if self.text_col:
            out.append("formula")
        return out


def _corrupt(style: FileStyle, r: Rendered, src: np.ndarray, reasons: list[str]) -> dict:
    """Copies of rows ``src`` with one planted fault each; returns their columns."""
    cols = {k: v[src].copy() for k, v in r.cols.items()}
    bad_col = []
    for i, reason in enumerate(reasons):
        if reason == "bad_timestamp":
            cols[style.ts_col][i] = style.bad_ts
            c = style.ts_col
        elif reason == "future_timestamp":
            c = style.ts_col
            cols[c][i] = FUTURE_TS + i * 86400 if style.fmt == "parquet" else style.ts_fmt(
                np.array([FUTURE_TS + i * 86400]))[0]
        elif reason == "bad_money":
            c = style.money_col
            cols[c][i] = "12,3x.00" if style.delimiter != "," else "twelve"
        elif reason == "negative_money":
            c = style.money_col
            raw = r.cols[c][src[i]] if style.fmt in ("parquet", "jsonl") else ""
            v = float(raw) if raw not in ("", None) else None
            if style.fmt == "parquet":
                cols[c][i] = -abs(v) if v else -10.0
            elif style.fmt == "jsonl":
                cols[c][i] = str(-abs(v) if v else -1.0)
            else:
                cols[c][i] = style.money_fmt(np.array([-125.40]))[0]
        elif reason == "no_identifier":
            for k in style.id_cols:
                cols[k][i] = None if style.fmt == "parquet" else ""
            c = ",".join(style.id_cols)
        elif reason == "bad_phone":
            c = style.phone_col
            cols[c][i] = "12345"
        elif reason == "formula":
            c = style.text_col
            cols[c][i] = FORMULA
        bad_col.append(c)
    return {"cols": cols, "col": bad_col}


@dataclass
class ChunkOut:
    """A rendered chunk ready to write, with its bookkeeping."""

    cols: dict[str, np.ndarray]
    keep: np.ndarray  # index into Rendered rows of first occurrences of clean rows
    n_rows: int
    n_dup: int
    broken: list[dict]
    trunc: bool = False


def plant_messiness(
    style: FileStyle, r: Rendered, rng: np.random.Generator, first_chunk: bool,
    row0: int, last_chunk: bool,
) -> ChunkOut:
    """Sort rows by time, add exact duplicates (every chunk) and broken rows (first chunk)."""
    n = len(r.pid)
    r.idmask = np.broadcast_to(np.asarray(r.idmask, dtype=np.int64), (n,)).copy()
    order = np.argsort(r.ts, kind="stable")
    r.cols = {k: v[order] for k, v in r.cols.items()}
    for a in ("pid", "ts", "idmask", "ev1", "ev2"):
        if getattr(r, a) is not None:
            setattr(r, a, getattr(r, a)[order])
    n_dup = min(n, max(1, round(0.004 * n))) if n else 0
    dup_src = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, int)
    reasons = style.reasons() if first_chunk and n >= 50 else []
    reasons = [x for x in reasons for _ in range(1 + (x in ("bad_timestamp", "no_identifier")))]
    br_src = np.sort(rng.choice(n, len(reasons), replace=False)) if reasons else np.zeros(0, int)
    bad = _corrupt(style, r, br_src, reasons) if reasons else {"cols": {}, "col": []}
    trunc = style.truncate_last and last_chunk and n > 0
    # final positions: clean rows 0..n-1, extras at random fractional positions (never last)
    pos = np.r_[np.arange(n, dtype=float), rng.uniform(0, max(n - 1, 0), n_dup + len(reasons))]
    kinds = np.r_[np.zeros(n, int), np.ones(n_dup, int), np.full(len(reasons), 2)]
    srcs = np.r_[np.arange(n), dup_src, np.arange(len(reasons))]
    fin = np.argsort(pos, kind="stable")
    cols = {}
    for k, v in r.cols.items():
        extra = bad["cols"][k] if reasons else v[:0]
        cols[k] = np.concatenate([v, v[dup_src], extra])[fin]
    kinds, srcs = kinds[fin], srcs[fin]
    first_line = 1 if style.fmt in ("jsonl", "parquet") else 2
    broken = []
    bpos = np.flatnonzero(kinds == 2)
    for p in bpos:
        broken.append({"row": int(row0 + p + first_line), "column": bad["col"][srcs[p]],
                       "reason": reasons[srcs[p]]})
    n_rows = len(fin)
    if trunc:  # the physical last line, cut short: a malformed row (copy of a clean row)
        lp = int(rng.integers(0, n))
        for k in cols:
            cols[k] = np.concatenate([cols[k], r.cols[k][lp:lp + 1]])
        broken.append({"row": int(row0 + n_rows + first_line), "column": None,
                       "reason": "malformed_line"})
        kinds = np.r_[kinds, 3]
        srcs = np.r_[srcs, lp]
        n_rows += 1
    # exact duplicates as the ingest will see them (planted + any accidental)
    key = _row_key(cols, style)
    whole = np.flatnonzero(kinds != 3)  # the truncated line is never a duplicate
    _, first_idx = np.unique(key[whole], return_index=True)
    is_first = np.zeros(n_rows, bool)
    is_first[whole[first_idx]] = True
    good = is_first & (kinds <= 1)
    n_dup_seen = int(len(whole) - len(first_idx))
    keep = srcs[good]
    broken.sort(key=lambda b: b["row"])
    return ChunkOut(cols, keep, n_rows, n_dup_seen, broken, trunc)


def _row_key(cols: dict[str, np.ndarray], style: FileStyle) -> np.ndarray:
    parts = [s(np.where(pd.isna(v), "<NA>", v.astype(str))) if v.dtype != S else v
             for v in cols.values()]
    return cat(*[x for p in parts for x in (p, "\x1f")])


# ----------------------------------------------------------------------------- writers

def _quote(a: np.ndarray, delim: str) -> np.ndarray:
    need = ((np.strings.find(a, delim) >= 0) | (np.strings.find(a, '"') >= 0)
            | (np.strings.find(a, "\n") >= 0))
    q = cat('"', np.strings.replace(a, '"', '""'), '"')
    return np.where(need, q, a).astype(S)


def csv_bytes(style: FileStyle, cols: dict[str, np.ndarray], header: bool, trunc: bool) -> bytes:
    """Render a chunk as CSV bytes in the style's delimiter, newline and encoding."""
    d, nl = style.delimiter, style.newline
    fields = [_quote(s(v), d) for v in cols.values()]
    parts = []
    for j, f in enumerate(fields):
        parts += [f] if j == 0 else [d, f]
    lines = cat(*parts).tolist() if fields and len(fields[0]) else []
    text = (d.join(cols) + nl if header else "") + "".join(x + nl for x in lines)
    if trunc and lines:
        text = text[: len(text) - len(nl) - max(3, len(lines[-1]) // 2)]
    data = text.encode(style.encoding)
    return (b"\xef\xbb\xbf" + data) if (header and style.bom) else data


def jsonl_bytes(style: FileStyle, cols: dict[str, np.ndarray]) -> bytes:
    """Render a chunk as JSON lines; '' values become null, numeric columns JSON numbers."""
    parts = []
    for j, (k, v) in enumerate(cols.items()):
        v = s(v)
        if k in style.numeric_cols:
            tok = v
        else:
            esc = np.strings.replace(np.strings.replace(v, "\\", "\\\\"), '"', '\\"')
            tok = cat('"', esc, '"')
        tok = np.where(v == "", s("null"), tok).astype(S)
        parts += [("{" if j == 0 else ", ") + json.dumps(k) + ": ", tok]
    lines = cat(*parts, "}\n").tolist() if cols and len(next(iter(cols.values()))) else []
    return "".join(lines).encode("utf-8")


class FileWriter:
    """Appends chunks to one export file (XLSX is buffered and written at close)."""

    def __init__(self, style: FileStyle, path: Path):
        self.style, self.path = style, path
        self.first = True
        self.pq: pq.ParquetWriter | None = None
        self.xl: list[dict[str, np.ndarray]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        if style.fmt in ("csv", "jsonl"):
            path.write_bytes(b"")

    def write(self, cols: dict[str, np.ndarray], trunc: bool = False) -> None:
        st = self.style
        if st.fmt == "csv":
            with self.path.open("ab") as f:
                f.write(csv_bytes(st, cols, self.first, trunc))
        elif st.fmt == "jsonl":
            with self.path.open("ab") as f:
                f.write(jsonl_bytes(st, cols))
        elif st.fmt == "xlsx":
            self.xl.append(cols)
        else:
            table = pa.table({k: pa.array(v, type=st.parquet_schema[k]) for k, v in cols.items()})
            if self.pq is None:
                self.pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self.pq.write_table(table)
        self.first = False

    def close(self) -> None:
        if self.pq is not None:
            self.pq.close()
        if self.style.fmt == "xlsx":
            names = list(self.xl[0]) if self.xl else []
            cols = [np.concatenate([c[k] for c in self.xl]) for k in names]
            write_xlsx(self.path, self.style.sheet, names, cols)
