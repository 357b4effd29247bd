"""Loading analysis SQL files and filling in identifiers safely.

A query file may hold `{{name}}` placeholders for identifiers (a breakdown column, say); they are
filled only through `quote_ident`, or with a Python int as a number literal. A line
`-- {{@part}}` is replaced by SQL text composed from other files (see `render`'s `parts`), and a
line `-- {{>file name=alias ...}}` by another file rendered with those identifiers (a fragment
shared by several queries, such as step_conditions.sql). Values are always bound parameters
(`$name`).
"""

from __future__ import annotations

import re

from cjlib.db import load_sql, quote_ident

PACKAGE = "cjlib.analyses.sql"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# a directive line: `-- {{@part}}` or `-- {{>file key=value ...}}` (group 1: '@' or '>')
_DIRECTIVE = re.compile(
    rf"^[ \t]*-- \{{\{{([@>])({_NAME}((?:[ \t]+{_NAME}=[A-Za-z0-9_]+)*))\}}\}}[ \t]*$",
    re.MULTILINE,
)


def render(name: str, parts: dict[str, str] | None = None, **identifiers: str | int) -> str:
    """The text of analyses/sql/<name>.sql with `{{ident}}` placeholders filled (strings quoted
    as identifiers, ints as number literals), `-- {{@part}}` lines replaced by `parts[part]`,
    SQL already rendered from other files, and `-- {{>file key=value}}` lines by that file
    rendered with those identifiers (digits: ints)."""
    text = load_sql(PACKAGE, name)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in identifiers:
            raise KeyError(f"{name}.sql needs identifier {key!r}")
        value = identifiers[key]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"{name}.sql: {key} must be an identifier (str) or an int")
        return str(value) if isinstance(value, int) else quote_ident(value)

    def insert(kind: str, directive: str) -> str:
        if kind == ">":
            file, *pairs = directive.split()
            return render(file, **_arguments(pairs))
        if parts is None or directive not in parts:
            raise KeyError(f"{name}.sql needs part {directive!r}")
        return parts[directive]

    # split on the directive lines (each match gives 3 groups: kind, directive, its arguments);
    # inserted text is already rendered and is never filled again
    pieces = _DIRECTIVE.split(text)
    out = [_PLACEHOLDER.sub(fill, pieces[0])]
    for i in range(1, len(pieces), 4):
        out.append(insert(pieces[i], pieces[i + 1]))
        out.append(_PLACEHOLDER.sub(fill, pieces[i + 3]))
    return "".join(out)


def _arguments(pairs: list[str]) -> dict[str, str | int]:
    """`key=value` pairs of an include line: digits are ints, anything else an identifier."""
    args: dict[str, str | int] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        args[key] = int(value) if value.isdigit() else value
    return args
