"""The one error hierarchy of the matching engine."""

from __future__ import annotations


class MatchingError(Exception):
    """Base of every error the engine raises."""


class InvalidProblemError(MatchingError, ValueError):
    """The input is malformed: wrong shapes, indices out of range, negative demand."""


class SolverFailedError(MatchingError, RuntimeError):
    """The underlying solver returned a status other than optimal."""
