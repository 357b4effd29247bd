"""Keep the dashboard kernel's start-up short (DESIGN section 7: first render ~7 s, 3 s imports).

Measured costs this module avoids:
- `jsonschema` (imported by altair) builds the `rfc3987_syntax` grammar on import (~3.7 s on the
  2-core machine) only to check the "iri" string format, which Vega-Lite specs never use.
  `skip_slow_imports()` marks that optional module as absent before altair is imported, so
  jsonschema skips that one format checker.
- `alt.JupyterChart.enable_offline()` asks vl-convert to bundle Vega's JavaScript (~3.8 s, 0.9 MB)
  in every new kernel, and every chart widget then carries the whole bundle to the browser, which
  parses it once per chart (anywidget gives up on a widget that takes over 2 s to load). So the
  bundle is cached on disk (keyed by the altair and vl-convert versions); `cj serve` publishes it
  as one static file of the server and sets $CJ_CHART_ESM to its path, and the charts then point
  at that URL: the browser loads and parses it once for all charts. Elsewhere (JupyterLab, batch)
  the charts carry the cached bundle inline, exactly as `enable_offline()` would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)
ESM_ENV = "CJ_CHART_ESM"


def skip_slow_imports() -> None:
    """Mark optional modules whose import is slow and unused here as absent (before altair)."""
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def cache_dir() -> Path:
    """Where cjkit caches derived files: $CJ_CACHE_DIR, else $XDG_CACHE_HOME/cjkit."""
    env = os.environ.get("CJ_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cjkit"


def bundle_name() -> str:
    """File name of the offline chart bundle for the installed altair and vl-convert."""
    from importlib.metadata import version

    key = f"{version('altair')}|{version('vl-convert-python')}"
    return f"jupyterchart-{hashlib.sha256(key.encode()).hexdigest()[:16]}.js"


def chart_bundle() -> str:
    """The JavaScript of `alt.JupyterChart` with Vega bundled in (cached on disk)."""
    path = cache_dir() / bundle_name()
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    skip_slow_imports()
    import altair as alt

    was_offline = alt.JupyterChart._is_offline
    alt.JupyterChart.enable_offline(True)
    text = str(alt.JupyterChart._esm)
    if not was_offline:
        alt.JupyterChart.enable_offline(False)
    with contextlib.suppress(OSError):  # an unwritable cache only costs time
        _write_atomic(path, text)
    return text


def served_bundle_url() -> str | None:
    """The bundle's URL on this Voila server (same origin as the page), when `cj serve`
    published it; None otherwise."""
    path = os.environ.get(ESM_ENV)
    request = os.environ.get("VOILA_REQUEST_URL")
    if not path or not request:
        return None
    parts = urlsplit(request)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}/{path.lstrip('/')}"


def offline_charts() -> None:
    """Make `alt.JupyterChart` load Vega without any CDN: from this server when served,
    else inline from the cached bundle."""
    skip_slow_imports()
    import altair as alt

    chart_cls = alt.JupyterChart
    url = served_bundle_url()
    if url is not None:
        chart_cls._esm = url
        chart_cls._is_offline = True
        return
    if isinstance(getattr(chart_cls, "_esm", None), str) and chart_cls._is_offline \
            and not str(chart_cls._esm).startswith("http"):
        return
    chart_cls._esm = chart_bundle()
    chart_cls._is_offline = True


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".js")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
