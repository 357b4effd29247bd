"""Loading analysis SQL files and filling in identifiers safely.

A query file may hold `{{name}}` placeholders for identifiers (a breakdown column, say); they are
filled only through `quote_ident`. Values are always bound parameters (`$name`).
"""

from __future__ import annotations

import re

from cjlib.db import load_sql, quote_ident

PACKAGE = "cjlib.analyses.sql"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def render(name: str, **identifiers: str) -> str:
    """The text of analyses/sql/<name>.sql with `{{ident}}` placeholders quoted and filled."""
    text = load_sql(PACKAGE, name)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in identifiers:
            raise KeyError(f"{name}.sql needs identifier {key!r}")
        return quote_ident(identifiers[key])

    return _PLACEHOLDER.sub(fill, text)
