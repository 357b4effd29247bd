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
import pyarrow.compute as pc
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
    # r.cols stays in build order: each column is gathered once, below, straight into its final
    # row order (gathering strings is the slow part); the row truth arrays are sorted here.
    for a in ("pid", "ts", "idmask", "ev1", "ev2"):
        if getattr(r, a) is not None:
            setattr(r, a, getattr(r, a)[order])
    n_dup = min(n, max(1, round(0.004 * n))) if n else 0
    dup_src = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, int)
    reasons = style.reasons() if first_chunk and n >= 50 else []
    reasons = [x for x in reasons for _ in range(1 + (x in ("bad_timestamp", "no_identifier")))]
    br_src = np.sort(rng.choice(n, len(reasons), replace=False)) if reasons else np.zeros(0, int)
    bad = _corrupt(style, r, order[br_src], reasons) if reasons else {"cols": {}, "col": []}
    trunc = style.truncate_last and last_chunk and n > 0
    # final positions: clean rows 0..n-1, extras at random fractional positions (never last)
    pos = np.r_[np.arange(n, dtype=float), rng.uniform(0, max(n - 1, 0), n_dup + len(reasons))]
    kinds = np.r_[np.zeros(n, int), np.ones(n_dup, int), np.full(len(reasons), 2)]
    srcs = np.r_[np.arange(n), dup_src, np.arange(len(reasons))]
    fin = np.argsort(pos, kind="stable")
    gather = np.r_[order, order[dup_src], n + np.arange(len(reasons))][fin]
    cols = {}
    for k, v in r.cols.items():
        cols[k] = np.concatenate([v, bad["cols"][k]])[gather] if reasons else v[gather]
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
            cols[k] = np.concatenate([cols[k], r.cols[k][order[lp]:order[lp] + 1]])
        broken.append({"row": int(row0 + n_rows + first_line), "column": None,
                       "reason": "malformed_line"})
        kinds = np.r_[kinds, 3]
        srcs = np.r_[srcs, lp]
        n_rows += 1
    # exact duplicates as the ingest will see them (planted + any accidental)
    whole = np.flatnonzero(kinds != 3)  # the truncated line is never a duplicate
    repeated = _row_keys(cols).iloc[whole].duplicated(keep="first").to_numpy()
    is_first = np.zeros(n_rows, bool)
    is_first[whole[~repeated]] = True
    good = is_first & (kinds <= 1)
    n_dup_seen = int(repeated.sum())
    keep = srcs[good]
    broken.sort(key=lambda b: b["row"])
    return ChunkOut(cols, keep, n_rows, n_dup_seen, broken, trunc)


def _row_keys(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each row's values as text (missing -> '<NA>'): rows with equal texts are exact duplicates
    for the ingest."""
    return pd.DataFrame({i: np.where(pd.isna(v), "<NA>", v.astype(str)) if v.dtype != S else v
                         for i, v in enumerate(cols.values())}, copy=False)


# ----------------------------------------------------------------------------- writers

def _quote(a: pa.Array, delim: str) -> pa.Array:
    """CSV quoting where needed: a value holding the delimiter, a quote or a newline is quoted,
    its quotes doubled."""
    need = pc.or_(pc.or_(pc.match_substring(a, delim), pc.match_substring(a, '"')),
                  pc.match_substring(a, "\n"))
    if not pc.any(need).as_py():
        return a
    text = pa.large_string()
    q = pc.binary_join_element_wise(pa.scalar('"', text), pc.replace_substring(a, '"', '""'),
                                    pa.scalar('"', text), pa.scalar("", text))
    return pc.if_else(need, q, a)


def _text(a: np.ndarray) -> pa.Array:
    """A string column as an Arrow array (no nulls: '' stays '')."""
    return pa.array(s(a), type=pa.large_string())


def _rows_bytes(parts: list[pa.Array | np.ndarray | str]) -> tuple[bytes, str]:
    """Concatenate `parts` (string arrays and constants) element-wise and every row after the
    other: the UTF-8 bytes of ``"".join(rows)``, and the last row. Arrow does it in one pass
    (numpy's pairwise string additions copy every row once per part)."""
    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str)
            else p if isinstance(p, pa.Array) else _text(p) for p in parts]
    rows = pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))
    if len(rows) == 0:
        return b"", ""
    _, offsets, data = rows.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
    return data.to_pybytes()[bounds[0]:bounds[-1]], rows[-1].as_py()


def csv_bytes(style: FileStyle, cols: dict[str, np.ndarray], header: bool, trunc: bool) -> bytes:
    """Render a chunk as CSV bytes in the style's delimiter, newline and encoding."""
    d, nl = style.delimiter, style.newline
    fields = [_quote(_text(v), d) for v in cols.values()]
    parts: list[pa.Array | np.ndarray | str] = []
    for j, f in enumerate(fields):
        parts += [f] if j == 0 else [d, f]
    body, last = _rows_bytes([*parts, nl]) if fields and len(fields[0]) else (b"", "")
    head = d.join(cols) + nl if header else ""
    if trunc and last:
        text = head + body.decode("utf-8")
        text = text[: len(text) - len(nl) - max(3, (len(last) - len(nl)) // 2)]
        data = text.encode(style.encoding)
    elif style.encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        data = head.encode("utf-8") + body
    else:
        data = (head + body.decode("utf-8")).encode(style.encoding)
    return (b"\xef\xbb\xbf" + data) if (header and style.bom) else data


def jsonl_bytes(style: FileStyle, cols: dict[str, np.ndarray]) -> bytes:
    """Render a chunk as JSON lines; '' values become null, numeric columns JSON numbers."""
    parts: list[pa.Array | np.ndarray | str] = []
    for j, (k, v) in enumerate(cols.items()):
        v = s(v)
        if k in style.numeric_cols:
            tok = v
        else:
            esc = np.strings.replace(np.strings.replace(v, "\\", "\\\\"), '"', '\\"')
            tok = cat('"', esc, '"')
        tok = np.where(v == "", s("null"), tok).astype(S)
        parts += [("{" if j == 0 else ", ") + json.dumps(k) + ": ", tok]
    if not cols or not len(next(iter(cols.values()))):
        return b""
    return _rows_bytes([*parts, "}\n"])[0]


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
