"""Errors that say exactly what is wrong: file, row, column, value, and what was expected."""

from __future__ import annotations


class CjError(Exception):
    """Base class for every error cjkit raises on purpose."""


class ConfigError(CjError):
    """client.yml is missing, malformed, or maps something that cannot work."""


class WorkspaceNotFound(CjError):
    """No workspace of that name or path."""


class InputError(CjError):
    """A raw export cannot be read as mapped.

    The message names the file, the row (as a person sees it), the column, the value and what was
    expected, whichever of those are known.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = [
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column!r}" if self.column is not None else None,
            )
            if part
        ]
        text = f"{': '.join([', '.join(where), self.problem]) if where else self.problem}"
        if self.value is not None:
            text += f"; value {self.value!r}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f" ({self.hint})"
        return text
