"""Write a sample client: client.yml, raw/ exports, truth.yml, TRUTH.md — streamed in chunks.

Chunks of persons are independent given (seed, chunk number), so they may be simulated and
rendered in worker processes; the files are always written in chunk order, so the output is
byte-identical whatever the number of workers."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from .render import Encoded, FileWriter, encode, plant_messiness
from .simulate import simulate_chunk
from .spec import SAMPLE_CLIENTS, SampleSpec
from .styles import file_styles
from .truth import TruthAccumulator, write_truth

CHUNK = 250_000  # persons per chunk: part of what the data is (it seeds each chunk's draws)
XLSX_MAX_CUSTOMERS = 100_000
MAX_WORKERS = 2  # each worker holds one chunk (under 1 GB resident at 250,000 persons)


def client_yml(spec: SampleSpec, styles: list) -> dict[str, Any]:
    """The client.yml mapping of a sample client (docs/client-yml.md)."""
    return {
        "client": spec.client, "name": spec.name, "timezone": spec.timezone,
        "country": spec.country, "currency": spec.currency, "gross_margin": spec.gross_margin,
        "branding": dict(spec.branding),
        "sources": [{"name": st.source, "kind": st.kind, "files": f"raw/{st.file}", **st.yml}
                    for st in styles],
    }


@dataclass(frozen=True)
class _Job:
    """Everything a (worker) process needs to produce one chunk; plain data, so it pickles."""

    client: str
    seed: int
    customers: int
    effects: bool
    chunk_size: int

    @property
    def n_chunks(self) -> int:
        return -(-self.customers // self.chunk_size)

    @property
    def xlsx(self) -> bool:
        return self.customers <= XLSX_MAX_CUSTOMERS


Sink = Callable[[int, Encoded], None]  # (export number, encoded rows of one chunk)


def _chunk(job: _Job, c: int, sink: Sink) -> TruthAccumulator:
    """Simulate and render chunk ``c``: each export's encoded rows go to ``sink`` as soon as
    they are ready; returns the chunk's truth."""
    spec = SAMPLE_CLIENTS[job.client]
    m = min(job.chunk_size, job.customers - c * job.chunk_size)
    world = simulate_chunk(spec, job.seed, c, m, c * job.chunk_size, job.effects)
    rng = np.random.default_rng([job.seed, c, 99])
    acc = TruthAccumulator(spec, job.seed, job.customers, job.effects, job.xlsx)
    for i, st in enumerate(file_styles(spec, job.xlsx)):
        r = st.build(world)
        out = plant_messiness(st, r, rng, c == 0, c == job.n_chunks - 1)
        sink(i, encode(st, out, c == 0))
        acc.add_file(st, r, out)
        del r, out  # before the next export is built
    acc.end_chunk(world)
    return acc


Parts = dict[int, Encoded | Path]  # export number -> encoded rows, or a file holding them


def _spooled(job: _Job, c: int, spool: Path) -> tuple[Parts, TruthAccumulator]:
    """``_chunk`` in a worker: text goes to files under ``spool`` (so neither process holds a
    whole chunk's output); the rest (a Parquet table, XLSX cells) is returned."""
    parts: Parts = {}

    def sink(i: int, data: Encoded) -> None:
        if isinstance(data, bytes):
            path = spool / f"chunk{c}-{i}.part"
            path.write_bytes(data)
            parts[i] = path
        else:
            parts[i] = data

    acc = _chunk(job, c, sink)
    return parts, acc


def _parallel(job: _Job, workers: int, spool: Path) -> Iterator[tuple[Parts, TruthAccumulator]]:
    """The chunks in order, rendered by worker processes: chunk c goes to worker c % workers,
    which gets at most two chunks ahead (bounded memory and spool)."""
    pool = [_Worker() for _ in range(workers)]
    try:
        for c in range(min(2 * workers, job.n_chunks)):
            pool[c % workers].send(job, c, spool)
        for c in range(job.n_chunks):
            result = pool[c % workers].receive()
            if c + 2 * workers < job.n_chunks:
                pool[c % workers].send(job, c + 2 * workers, spool)
            yield result
            del result
    finally:
        for w in pool:
            w.stop()


class _Worker:
    """A worker process (a fresh interpreter: no fork, and the caller's main module is not
    re-imported) that renders chunks: (job, chunk, spool) pickles in on stdin, results out on
    stdout."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from cjlib.sample.generate import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                os.path.abspath(p) for p in sys.path if p)})
        self.queued = 0

    def send(self, job: _Job, c: int, spool: Path) -> None:
        pickle.dump((job, c, spool), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()
        self.queued += 1

    def receive(self) -> Any:
        try:
            status, value = pickle.load(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"sample worker exited with code {self.proc.wait()}") from None
        self.queued -= 1
        if status != "ok":
            raise RuntimeError(f"sample worker failed:\n{value}")
        return value

    def stop(self) -> None:
        """End the worker: it exits on end of input, or is killed if it still has work (after
        an error elsewhere)."""
        if self.queued:
            self.proc.kill()
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()


def _serve() -> None:
    """The loop of a worker process (see ``_Worker``)."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray output must not corrupt the result stream
    pa.set_memory_pool(pa.system_memory_pool())  # gives freed memory back at once
    while True:
        try:
            job, c, spool = pickle.load(inp)
        except EOFError:
            return
        try:
            result: tuple[str, Any] = ("ok", _spooled(job, c, spool))
        except Exception:
            result = ("error", traceback.format_exc())
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


def default_workers(n_chunks: int) -> int:
    """Worker processes used when none are given: one per core, at most MAX_WORKERS, and none
    for a single chunk (or without a Python executable to start them with)."""
    if n_chunks <= 1 or not sys.executable:
        return 1
    return min(MAX_WORKERS, os.cpu_count() or 1, n_chunks)


def write_sample(
    client: str, out_dir: Path, *, seed: int | None = None, customers: int | None = None,
    effects: bool = True, progress: Callable[[int, int], None] | None = None,
    workers: int | None = None, chunk_size: int = CHUNK,
) -> Path:
    """Simulate ``client`` and write its workspace into ``out_dir``; returns ``out_dir``.

    ``workers``: processes rendering chunks in parallel (default: ``default_workers``); the
    output does not depend on it. ``chunk_size`` (persons per chunk) is part of what the data
    is: the same options with another chunk size give other (equally valid) data."""
    spec = SAMPLE_CLIENTS[client]
    seed = spec.default_seed if seed is None else int(seed)
    n = spec.default_customers if customers is None else int(customers)
    if n < 1:
        raise ValueError("customers must be >= 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    job = _Job(client, seed, n, effects, int(chunk_size))
    workers = default_workers(job.n_chunks) if workers is None else max(1, int(workers))
    out_dir = Path(out_dir)
    styles = file_styles(spec, job.xlsx)
    raw = out_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for st in file_styles(spec, not job.xlsx):  # stale alternative of the calls file
        if st.file not in {x.file for x in styles}:
            (raw / st.file).unlink(missing_ok=True)
    writers = [FileWriter(st, raw / st.file) for st in styles]
    acc = TruthAccumulator(spec, seed, n, effects, job.xlsx)
    workers = min(workers, job.n_chunks)
    if workers <= 1:
        for c in range(job.n_chunks):
            acc.merge(_chunk(job, c, lambda i, data: writers[i].write(data)))
            if progress is not None:
                progress(c + 1, job.n_chunks)
    else:
        spool = Path(tempfile.mkdtemp(prefix=".chunks-", dir=out_dir))
        try:
            for c, (parts, part_acc) in enumerate(_parallel(job, workers, spool)):
                for i, data in sorted(parts.items()):
                    writers[i].write(data)
                acc.merge(part_acc)
                del parts, part_acc
                if progress is not None:
                    progress(c + 1, job.n_chunks)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
    for w in writers:
        w.close()
    mapping = json.loads(json.dumps(client_yml(spec, styles)))  # no YAML anchors
    (out_dir / "client.yml").write_text(
        f"# Sample client generated by cjlib.sample (seed {seed}, {n} persons, "
        f"effects {'on' if effects else 'off'}). Regenerate with `cj sample`.\n"
        + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8")
    write_truth(out_dir, acc.result())
    return out_dir


def write_all_samples(root: Path) -> list[Path]:
    """Every sample client into ``root/<client>/`` with its default seed and size."""
    return [write_sample(name, Path(root) / name) for name in sorted(SAMPLE_CLIENTS)]
