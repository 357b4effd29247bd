"""Dashboard widgets and their data-only twins (DESIGN section 7).

`open_dashboard(client)` builds a client's dashboard (cjlib.widgets.app); each section is a
data-only function of (filtered journey, FilterState) in cjlib.widgets.sections returning a
SectionView; `safe_callback` wraps widget callbacks so errors are logged, never shown.
Importing this package marks slow optional imports as absent (see cjlib.widgets.lean).
"""

from __future__ import annotations

from typing import Any

from cjlib.widgets.lean import skip_slow_imports

skip_slow_imports()


def open_dashboard(client: Any, **kwargs: Any) -> Any:
    """A client's dashboard (see cjlib.widgets.app.open_dashboard)."""
    from cjlib.widgets.app import open_dashboard as _open

    return _open(client, **kwargs)


__all__ = ["open_dashboard"]
