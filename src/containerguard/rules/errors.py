"""The rule stage's error base (to move into ``containerguard.errors`` with the other stage bases)."""

from __future__ import annotations

from containerguard.errors import ContainerGuardError


class RuleError(ContainerGuardError):
    """A rules file or condition could not be loaded or compiled."""


class ConditionSyntaxError(RuleError):
    """A condition does not parse; ``pos`` is the 0-based offset in the condition text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos
