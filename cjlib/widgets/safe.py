"""Widget callbacks that fail politely: the details go to a server-side log, the page says
something a client can read, and no traceback ever reaches the browser.

`cj serve` sets $CJ_DASHBOARD_LOG to a file beside the served report; without it (a batch run, an
analyst's JupyterLab) the records go to `dashboard.log` in the cjkit cache folder
(see `cjlib.widgets.lean.cache_dir`).
"""

from __future__ import annotations

import functools
import html
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cjlib.widgets.lean import cache_dir

LOG_ENV = "CJ_DASHBOARD_LOG"
log = logging.getLogger("cjlib.widgets")

FRIENDLY = ("Sorry, this part of the dashboard could not be updated. The other figures are not "
            "affected. Reference {ref} (for the analyst).")

F = TypeVar("F", bound=Callable[..., Any])
_handler: dict[str, logging.FileHandler] = {}


def log_path() -> Path:
    """Where dashboard errors are logged: $CJ_DASHBOARD_LOG, else <cache>/dashboard.log."""
    env = os.environ.get(LOG_ENV)
    return Path(env) if env else cache_dir() / "dashboard.log"


def configure_logging() -> logging.Logger:
    """Send `cjlib.widgets` records to `log_path()` (only there), never to the page."""
    path = str(log_path())
    current = _handler.get("handler")
    if current is None or current.baseFilename != os.path.abspath(path):
        if current is not None:
            log.removeHandler(current)
            current.close()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        _handler["handler"] = handler
    return log


def new_reference() -> str:
    """A short id tying the message on the page to the log record."""
    return secrets.token_hex(3)


def log_error(exc: BaseException, where: str, level: int = logging.ERROR) -> str:
    """Log `exc` with its traceback server-side; return the reference of the record."""
    ref = new_reference()
    configure_logging().log(level, "dashboard %s %s in %s: %r", "error" if level >= logging.ERROR
                            else "note", ref, where, exc, exc_info=exc)
    return ref


def report(exc: BaseException, where: str) -> str:
    """Log `exc` with its traceback server-side; return the friendly message (HTML-safe)."""
    return html.escape(FRIENDLY.format(ref=log_error(exc, where)))


def safe_callback(on_error: Callable[[str], None], where: str = "") -> Callable[[F], F]:
    """Decorate a widget callback: any exception is logged and `on_error(message)` is called
    with the friendly message instead of letting the exception reach the widget machinery."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                message = report(exc, where or getattr(fn, "__qualname__", "callback"))
                try:
                    on_error(message)
                except Exception as inner:  # the error display itself failed: log only
                    configure_logging().error("error display failed: %r", inner, exc_info=inner)
                return None

        return wrapper  # type: ignore[return-value]

    return decorate
