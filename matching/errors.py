"""The one error hierarchy of the matching engine."""

from __future__ import annotations


class MatchingError(Exception):
    """Base of every error the engine raises."""


class InvalidProblemError(MatchingError, ValueError):
    """The input is malformed: wrong shapes, indices out of range, negative demand."""


class SolverFailedError(MatchingError, RuntimeError):
    """The underlying solver returned a status other than optimal."""


class ImpossibleConstraintError(MatchingError, ValueError):
    """A constraint of the input that no assignment can meet; `messages` names each one."""

    def __init__(self, messages: tuple[str, ...]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
