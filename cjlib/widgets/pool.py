"""Computing section views off the kernel's main thread, a few at a time, with a small cache.

Each worker thread keeps its own filtered Journey (its own DuckDB cursor: a connection is not
shared between threads), so sections of one filter change run side by side; DuckDB releases the
GIL while it works. Views are cached per (section, selection): going back to a previous
selection is instant, and the warehouse is read-only, so a cached view never goes stale while
the page is open.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from cjlib.widgets.sections import Context, compute, context
from cjlib.widgets.state import FilterState
from cjlib.widgets.views import SectionView

if TYPE_CHECKING:
    from cjlib.journey import Journey

WORKERS = 2
CACHE_SIZE = 256


class ViewPool:
    """Futures of section views for (key, selection)."""

    def __init__(self, journey: Journey, workers: int = WORKERS) -> None:
        self.journey = journey
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="cj-section")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, FilterState], Future[SectionView]] = OrderedDict()

    def _context(self, state: FilterState) -> Context:
        """This thread's filtered journey for `state`, rebuilt only when the filters (not the
        funnel steps or bucket width) changed."""
        ctx: Context | None = getattr(self._local, "ctx", None)
        if ctx is not None and ctx.state.where_kwargs() == state.where_kwargs():
            return ctx if ctx.state == state else Context(ctx.journey, state, ctx.counts)
        if ctx is not None and ctx.journey is not self.journey:
            ctx.journey.con.close()
        ctx = context(self.journey, state)
        self._local.ctx = ctx
        return ctx

    def _compute(self, key: str, state: FilterState) -> SectionView:
        return compute(key, self._context(state))

    def request(self, key: str, state: FilterState) -> Future[SectionView]:
        """The (possibly running, possibly cached) computation of one section view."""
        with self._lock:
            future = self._cache.get((key, state))
            if future is not None:
                self._cache.move_to_end((key, state))
                return future
            future = self._executor.submit(self._compute, key, state)
            self._cache[(key, state)] = future
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        future.add_done_callback(lambda f, k=(key, state): self._forget_failure(k, f))
        return future

    def _forget_failure(self, key: tuple[str, FilterState], future: Future[SectionView]) -> None:
        if future.cancelled() or future.exception() is not None:
            with self._lock:
                if self._cache.get(key) is future:
                    del self._cache[key]

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
