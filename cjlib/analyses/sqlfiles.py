"""Loading analysis SQL files and filling in identifiers safely.

A query file may hold `{{name}}` placeholders for identifiers (a breakdown column, say); they are
filled only through `quote_ident`, or with a Python int as a number literal. A line
`-- {{@part}}` is replaced by SQL text composed from other files (see `render`'s `parts`).
Values are always bound parameters (`$name`).
"""

from __future__ import annotations

import re

from cjlib.db import load_sql, quote_ident

PACKAGE = "cjlib.analyses.sql"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PART = re.compile(r"^[ \t]*-- \{\{@([A-Za-z_][A-Za-z0-9_]*)\}\}[ \t]*$", re.MULTILINE)


def render(name: str, parts: dict[str, str] | None = None, **identifiers: str | int) -> str:
    """The text of analyses/sql/<name>.sql with `{{ident}}` placeholders filled (strings quoted
    as identifiers, ints as number literals) and `-- {{@part}}` lines replaced by `parts[part]`,
    SQL already rendered from other files."""
    text = load_sql(PACKAGE, name)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in identifiers:
            raise KeyError(f"{name}.sql needs identifier {key!r}")
        value = identifiers[key]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"{name}.sql: {key} must be an identifier (str) or an int")
        return str(value) if isinstance(value, int) else quote_ident(value)

    def insert(key: str) -> str:
        if parts is None or key not in parts:
            raise KeyError(f"{name}.sql needs part {key!r}")
        return parts[key]

    # split on the part lines (odd pieces are part names): inserted text is already rendered
    # and is never filled again
    pieces = _PART.split(text)
    return "".join(insert(piece) if i % 2 else _PLACEHOLDER.sub(fill, piece)
                   for i, piece in enumerate(pieces))
