"""Shared machinery of the house-style renderers: file styles, planted messiness, encoding and
writing. Text columns are Arrow large_string arrays (see fmt.py)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..db import load_sql
from .fmt import STR, cat, s, where
from .xlsx import write_xlsx

ID_BITS = {"cookie_id": 1, "email": 2, "phone": 4, "crm_id": 8, "account_no": 16}
FORMULA = "=cmd|' /C calc'!A0"
FUTURE_TS = 1_956_528_000  # 2032-01-01T00:00:00Z: beyond 2030


@dataclass
class Rendered:
    """One chunk of an export: column arrays plus, per row, the truth behind it."""

    cols: dict[str, pa.Array | np.ndarray]  # text: large_string; Parquet: numbers as numpy
    pid: np.ndarray
    ts: np.ndarray  # primary timestamp (sort key)
    idmask: np.ndarray  # ID_BITS of identifiers present in the row
    ev1: pa.Array  # canonical event of the row
    ev2: pa.Array | None = None  # second event of a two-step row ('' if none)


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
    ts_fmt: Callable[[np.ndarray], pa.Array] | None = None
    bad_ts: str = "31/02/2024 25:61"
    money_col: str | None = None
    money_fmt: Callable[[np.ndarray], pa.Array] | None = None
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


def _arrow(v: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
    """A column as one Arrow array (numpy numbers keep their type; NaN stays NaN)."""
    if isinstance(v, pa.ChunkedArray):
        return v.combine_chunks()
    return v if isinstance(v, pa.Array) else pa.array(v)


def _corrupt(style: FileStyle, cols: dict[str, pa.Array], src: np.ndarray,
             reasons: list[str]) -> dict:
    """Copies of rows ``src`` with one planted fault each; returns their columns."""
    bad = {k: v.take(pa.array(src)).to_pylist() for k, v in cols.items()}
    bad_col = []
    for i, reason in enumerate(reasons):
        if reason == "bad_timestamp":
            bad[style.ts_col][i] = style.bad_ts
            c = style.ts_col
        elif reason == "future_timestamp":
            c = style.ts_col
            bad[c][i] = FUTURE_TS + i * 86400 if style.fmt == "parquet" else style.ts_fmt(
                np.array([FUTURE_TS + i * 86400]))[0].as_py()
        elif reason == "bad_money":
            c = style.money_col
            bad[c][i] = "12,3x.00" if style.delimiter != "," else "twelve"
        elif reason == "negative_money":
            c = style.money_col
            raw = cols[c][int(src[i])].as_py() if style.fmt in ("parquet", "jsonl") else ""
            v = float(raw) if raw not in ("", None) else None
            if style.fmt == "parquet":
                bad[c][i] = -abs(v) if v else -10.0
            elif style.fmt == "jsonl":
                bad[c][i] = str(-abs(v) if v else -1.0)
            else:
                bad[c][i] = style.money_fmt(np.array([-125.40]))[0].as_py()
        elif reason == "no_identifier":
            for k in style.id_cols:
                bad[k][i] = None if style.fmt == "parquet" else ""
            c = ",".join(style.id_cols)
        elif reason == "bad_phone":
            c = style.phone_col
            bad[c][i] = "12345"
        elif reason == "formula":
            c = style.text_col
            bad[c][i] = FORMULA
        bad_col.append(c)
    return {"cols": {k: pa.array(v, type=cols[k].type) for k, v in bad.items()}, "col": bad_col}


@dataclass
class ChunkOut:
    """A chunk of one export in its final row order, with its bookkeeping. Row numbers in
    ``broken`` count from the chunk's first row (the file's first data row in chunk 0)."""

    names: list[str]  # the column names
    cols: dict[str, pa.Array]  # Parquet / XLSX: the columns (else empty)
    lines: pa.Array | None  # CSV / JSON lines: each row's text, newline included
    keep: np.ndarray  # index into Rendered rows (build order) of first occurrences of clean rows
    n_rows: int
    n_dup: int
    broken: list[dict]
    trunc: bool = False


def plant_messiness(
    style: FileStyle, r: Rendered, rng: np.random.Generator, first_chunk: bool,
    last_chunk: bool,
) -> ChunkOut:
    """Sort rows by time, add exact duplicates (every chunk) and broken rows (first chunk).
    Takes the columns out of ``r`` (``r.cols`` is left empty, so they are freed early)."""
    n = len(r.pid)
    names = list(r.cols)
    src_cols = {k: _arrow(v) for k, v in r.cols.items()}
    r.cols = {}
    order = np.argsort(r.ts, kind="stable")
    n_dup = min(n, max(1, round(0.004 * n))) if n else 0
    dup_src = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, int)
    reasons = style.reasons() if first_chunk and n >= 50 else []
    reasons = [x for x in reasons for _ in range(1 + (x in ("bad_timestamp", "no_identifier")))]
    br_src = np.sort(rng.choice(n, len(reasons), replace=False)) if reasons else np.zeros(0, int)
    bad = _corrupt(style, src_cols, order[br_src], reasons) if reasons else {"cols": {},
                                                                            "col": []}
    trunc = style.truncate_last and last_chunk and n > 0
    # final positions: clean rows 0..n-1, extras at random fractional positions (never last)
    pos = np.r_[np.arange(n, dtype=float), rng.uniform(0, max(n - 1, 0), n_dup + len(reasons))]
    kinds = np.r_[np.zeros(n, int), np.ones(n_dup, int), np.full(len(reasons), 2)]
    srcs = np.r_[np.arange(n), dup_src, np.arange(len(reasons))]
    fin = np.argsort(pos, kind="stable")
    gather = np.r_[order, order[dup_src], n + np.arange(len(reasons))][fin]
    kinds, srcs = kinds[fin], srcs[fin]
    first_line = 1 if style.fmt in ("jsonl", "parquet") else 2
    broken = []
    bpos = np.flatnonzero(kinds == 2)
    for p in bpos:
        broken.append({"row": int(p + first_line), "column": bad["col"][srcs[p]],
                       "reason": reasons[srcs[p]]})
    n_rows = len(fin)
    if trunc:  # the physical last line, cut short: a malformed row (copy of a clean row)
        lp = int(rng.integers(0, n))
        gather = np.r_[gather, order[lp]]
        broken.append({"row": int(n_rows + first_line), "column": None,
                       "reason": "malformed_line"})
        kinds = np.r_[kinds, 3]
        srcs = np.r_[srcs, lp]
        n_rows += 1
    take = pa.array(gather, pa.int64())
    # exact duplicates as the ingest will see them (planted + any accidental); the truncated
    # last line is never a duplicate
    whole = n_rows - int(trunc)
    if style.fmt in ("csv", "jsonl"):  # a row's line holds its values (unambiguously)
        lines = render_lines(style, src_cols)
        del src_cols
        if reasons:
            lines = pa.concat_arrays([lines, render_lines(style, bad["cols"])])
        lines = lines.take(take)
        cols = {}
        repeated = _repeated(lines.slice(0, whole))
    else:
        lines = None
        cols = {k: (pa.concat_arrays([v, bad["cols"][k]]) if reasons else v).take(take)
                for k, v in src_cols.items()}
        repeated = _repeated(_row_keys(cols).slice(0, whole))
    is_first = np.zeros(n_rows, bool)
    is_first[:whole] = ~repeated
    good = is_first & (kinds <= 1)
    keep = order[srcs[good]]
    broken.sort(key=lambda b: b["row"])
    return ChunkOut(names, cols, lines, keep, n_rows, int(repeated.sum()), broken, trunc)


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB connection for hashing (one thread: rows stay in order)."""
    return duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})


def _repeated(text: pa.Array) -> np.ndarray:
    """True for each value equal to an earlier one. Values are hashed (DuckDB), and only those
    sharing a hash are compared, exactly: far less memory than hashing the texts themselves."""
    con = _duckdb()
    con.register("sample_text", pa.table({"value": text}))
    try:
        h = con.execute(load_sql("cjlib.sample.sql", "value_hash")).fetchnumpy()["h"]
    finally:
        con.unregister("sample_text")
    out = np.zeros(len(text), bool)
    shared = np.flatnonzero(pd.Series(h).duplicated(keep=False).to_numpy())
    if len(shared):
        same = pd.Series(pd.arrays.ArrowStringArray(text.take(pa.array(shared)))).duplicated()
        out[shared] = same.to_numpy()
    return out


def _row_keys(cols: dict[str, pa.Array]) -> pa.Array:
    """Each row's values as one text (missing or NaN -> '<NA>', values CSV-quoted so the text
    is unambiguous): rows with equal texts are exact duplicates for the ingest."""
    parts: list[pa.Array | str] = []
    for a in cols.values():
        if pa.types.is_floating(a.type):
            v = a.to_numpy(zero_copy_only=False)
            text = where(np.isnan(v), "<NA>", v)
        else:
            text = pc.fill_null(s(a), "<NA>")
        parts += [",", _quote(text, ",")] if parts else [_quote(text, ",")]
    return cat(*parts)


# ----------------------------------------------------------------------------- encoders

def _may_hold(a: pa.Array, *texts: str) -> bool:
    """False when no value of ``a`` contains any of ``texts`` (one scan of the data buffer)."""
    data = a.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return any(x.encode() in raw for x in texts)


def _quote(a: pa.Array, delim: str) -> pa.Array:
    """CSV quoting where needed: a value holding the delimiter, a quote or a newline is quoted,
    its quotes doubled."""
    if not _may_hold(a, delim, '"', "\n"):
        return a
    need = pc.or_(pc.or_(pc.match_substring(a, delim), pc.match_substring(a, '"')),
                  pc.match_substring(a, "\n"))
    if not pc.any(need).as_py():
        return a
    q = pc.binary_join_element_wise(pa.scalar('"', STR), pc.replace_substring(a, '"', '""'),
                                    pa.scalar('"', STR), pa.scalar("", STR))
    return pc.if_else(need, q, a)


def render_lines(style: FileStyle, cols: dict[str, pa.Array]) -> pa.Array:
    """Each row as one line of text, newline included: CSV in the style's delimiter and newline,
    or JSON ('' values -> null, numeric columns as JSON numbers)."""
    parts: list[pa.Array | str] = []
    if style.fmt == "csv":
        for j, v in enumerate(cols.values()):
            parts += [_quote(s(v), style.delimiter)] if j == 0 else [style.delimiter,
                                                                    _quote(s(v), style.delimiter)]
        parts.append(style.newline)
    else:
        for j, (k, v) in enumerate(cols.items()):
            v = s(v)
            key = ("{" if j == 0 else ", ") + json.dumps(k) + ": "
            quote = k not in style.numeric_cols
            if quote and _may_hold(v, "\\", '"'):
                v = pc.replace_substring(pc.replace_substring(v, "\\", "\\\\"), '"', '\\"')
            empty = pc.equal(v, "")
            if not pc.any(empty).as_py():  # no nulls: the quotes join the constant parts
                parts += [key + '"', v, '"'] if quote else [key, v]
            else:
                parts += [key, where(empty, "null", cat('"', v, '"') if quote else v)]
        parts.append("}\n")
    lines = cat(*parts)
    if lines.null_count:
        raise ValueError(f"{style.file}: a value is missing (null) in a text export")
    return lines


def _lines_buffer(lines: pa.Array) -> memoryview:
    """The UTF-8 bytes of ``"".join(lines)``, without copying."""
    if len(lines) == 0:
        return memoryview(b"")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(data)[int(bounds[0]):int(bounds[-1])]


def csv_bytes(style: FileStyle, names: list[str], lines: pa.Array, header: bool,
              trunc: bool) -> bytes:
    """A chunk of CSV lines as bytes in the style's encoding (header and BOM on the first)."""
    nl = style.newline
    body = _lines_buffer(lines)
    head = style.delimiter.join(names) + nl if header else ""
    bom = b"\xef\xbb\xbf" if (header and style.bom) else b""
    last = lines[-1].as_py() if len(lines) else ""
    if trunc and last:
        text = head + str(body, "utf-8")
        text = text[: len(text) - len(nl) - max(3, (len(last) - len(nl)) // 2)]
        return bom + text.encode(style.encoding)
    if style.encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        return b"".join([bom, head.encode("utf-8"), body])
    return bom + (head + str(body, "utf-8")).encode(style.encoding)


Encoded = bytes | pa.Table | dict[str, pa.Array]


def encode(style: FileStyle, out: ChunkOut, first: bool) -> Encoded:
    """A chunk ready for ``FileWriter.write``: bytes (CSV, JSON lines), a table (Parquet) or
    the columns (XLSX, written at close)."""
    if style.fmt == "csv":
        return csv_bytes(style, out.names, out.lines, first, out.trunc)
    if style.fmt == "jsonl":
        return bytes(_lines_buffer(out.lines))
    if style.fmt == "xlsx":
        return out.cols
    return pa.table({k: pc.cast(v, style.parquet_schema[k]) for k, v in out.cols.items()})


def _append_file(path: Path, part: Path) -> None:
    """Append the bytes of ``part`` to ``path`` (copied inside the kernel where possible)."""
    src, dst = os.open(part, os.O_RDONLY), os.open(path, os.O_WRONLY)
    try:
        os.lseek(dst, 0, os.SEEK_END)
        try:
            while os.copy_file_range(src, dst, 1 << 30):
                pass
        except (AttributeError, OSError):  # not here: the rest through memory
            with open(src, "rb", closefd=False) as a, open(dst, "wb", closefd=False) as b:
                shutil.copyfileobj(a, b, 1 << 20)
    finally:
        os.close(src)
        os.close(dst)


class FileWriter:
    """Appends encoded chunks to one export file (XLSX is buffered and written at close)."""

    def __init__(self, style: FileStyle, path: Path):
        self.style, self.path = style, path
        self.pq: pq.ParquetWriter | None = None
        self.xl: list[dict[str, pa.Array]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        if style.fmt in ("csv", "jsonl"):
            path.write_bytes(b"")

    def write(self, chunk: Encoded | Path) -> None:
        """Append one chunk: encoded rows, or a file of encoded rows (moved in, then deleted)."""
        if isinstance(chunk, Path):
            _append_file(self.path, chunk)
            chunk.unlink()
        elif isinstance(chunk, bytes):
            with self.path.open("ab") as f:
                f.write(chunk)
        elif isinstance(chunk, pa.Table):
            if self.pq is None:
                self.pq = pq.ParquetWriter(self.path, chunk.schema, compression="zstd")
            self.pq.write_table(chunk)
        else:
            self.xl.append(chunk)

    def close(self) -> None:
        if self.pq is not None:
            self.pq.close()
        if self.style.fmt == "xlsx":
            names = list(self.xl[0]) if self.xl else []
            cols = [pa.concat_arrays([c[k] for c in self.xl]) for k in names]
            write_xlsx(self.path, self.style.sheet, names, cols)
