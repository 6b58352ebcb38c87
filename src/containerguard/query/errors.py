"""Errors of the query language: a bad query names its position; a query over its time budget times out."""

from __future__ import annotations

from containerguard.errors import ConfigError


def _one_line(text: str) -> str:
    return " ".join(text.split())


class QueryError(ConfigError):
    """A query that cannot be parsed or compiled, at ``line``:``column`` (1-based; 0 when unknown),
    ``token`` being the text found there."""

    def __init__(self, message: str, line: int = 0, column: int = 0, token: str = "") -> None:
        self.message = _one_line(message)
        self.line = line
        self.column = column
        self.token = token
        where = f" at {line}:{column}" if line else ""
        near = f" near {_one_line(token)[:40]!r}" if token else ""
        super().__init__(f"query error{where}{near}: {self.message}")


class QueryTimeout(ConfigError):
    """The query ran longer than its time limit and was stopped."""


class QueryFailed(ConfigError):
    """The database refused the compiled query at run time (e.g. a text it cannot read as JSON)."""
