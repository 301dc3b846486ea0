"""The input of a matching: targets, reviewers, sparse candidate pairs, exclusions.

Everything is indexed: target i, reviewer j. Ids are carried along only to label the output.
Memory grows with the number of candidate pairs, never with targets x reviewers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from matching.errors import InvalidProblemError
from matching.reasons import ExclusionKind

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
#: the order of ExclusionKind members, as stored in `Exclusions.kind`
EXCLUSION_KINDS: tuple[ExclusionKind, ...] = tuple(ExclusionKind)


def int_array(values: object) -> IntArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.int64).reshape(-1))


def float_array(values: object) -> FloatArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))


@dataclass(frozen=True)
class Targets:
    """What needs reviewers: demand 1 for a review, k for a proposal.

    `proposal[i]` groups targets of one proposal: a reviewer serves at most one target of a
    proposal, and per-proposal scores sum over its targets.
    """

    ids: Sequence[Hashable]
    demand: IntArray
    proposal: IntArray

    @classmethod
    def one_per_proposal(cls, ids: Sequence[Hashable], demand: object) -> Targets:
        """Targets that are proposals themselves (a call's generate-assignments)."""
        n = len(ids)
        return cls(ids, int_array(np.broadcast_to(np.asarray(demand), (n,))), int_array(range(n)))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Reviewers:
    """Who can review: remaining capacity, optional minimum load and current workload."""

    ids: Sequence[Hashable]
    capacity: IntArray
    #: the fewest new assignments each reviewer should get (met when feasible)
    min_load: IntArray | None = None
    #: open assignments already held, used only by the convex load cost
    current_load: IntArray | None = None

    @classmethod
    def uniform(cls, ids: Sequence[Hashable], capacity: int, min_load: int = 0) -> Reviewers:
        n = len(ids)
        mins = int_array(np.full(n, min_load)) if min_load else None
        return cls(ids, int_array(np.full(n, capacity)), mins)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Pairs:
    """Sparse (target, reviewer, score) triples: candidates, or chosen assignments."""

    target: IntArray
    reviewer: IntArray
    score: FloatArray

    @classmethod
    def of(cls, target: object, reviewer: object, score: object) -> Pairs:
        return cls(int_array(target), int_array(reviewer), float_array(score))

    @classmethod
    def empty(cls) -> Pairs:
        return cls.of([], [], [])

    def __len__(self) -> int:
        return len(self.target)


@dataclass(frozen=True)
class Exclusions:
    """Forbidden (target, reviewer) pairs with the kind of each (index into EXCLUSION_KINDS)."""

    target: IntArray
    reviewer: IntArray
    kind: IntArray

    @classmethod
    def of(cls, target: object, reviewer: object, kind: Sequence[ExclusionKind]) -> Exclusions:
        codes = [EXCLUSION_KINDS.index(ExclusionKind(k)) for k in kind]
        return cls(int_array(target), int_array(reviewer), int_array(codes))

    @classmethod
    def empty(cls) -> Exclusions:
        return cls(int_array([]), int_array([]), int_array([]))

    def __len__(self) -> int:
        return len(self.target)


@dataclass(frozen=True)
class MatchingProblem:
    """One whole matching: solved at once by any algorithm."""

    targets: Targets
    reviewers: Reviewers
    candidates: Pairs
    exclusions: Exclusions = field(default_factory=Exclusions.empty)

    def __post_init__(self) -> None:
        validate_problem(self)


def _check_index(name: str, values: IntArray, size: int) -> None:
    if len(values) and (values.min() < 0 or values.max() >= size):
        raise InvalidProblemError(f"{name} has an index outside 0..{size - 1}")


def validate_problem(problem: MatchingProblem) -> None:
    """Raise InvalidProblemError unless shapes, ranges and values are consistent."""
    t, r = problem.targets, problem.reviewers
    n_t, n_r = len(t), len(r)
    if len(t.demand) != n_t or len(t.proposal) != n_t:
        raise InvalidProblemError("targets: ids, demand and proposal must have one entry each")
    if len(r.capacity) != n_r:
        raise InvalidProblemError("reviewers: ids and capacity must have one entry each")
    for name, arr in (("min_load", r.min_load), ("current_load", r.current_load)):
        if arr is not None and len(arr) != n_r:
            raise InvalidProblemError(f"reviewers: {name} must have one entry per reviewer")
    if (t.demand < 0).any() or (r.capacity < 0).any():
        raise InvalidProblemError("demand and capacity must not be negative")
    c, x = problem.candidates, problem.exclusions
    if not len(c.target) == len(c.reviewer) == len(c.score):
        raise InvalidProblemError("candidates: target, reviewer and score differ in length")
    if not len(x.target) == len(x.reviewer) == len(x.kind):
        raise InvalidProblemError("exclusions: target, reviewer and kind differ in length")
    if not np.isfinite(c.score).all():
        raise InvalidProblemError("candidate scores must be finite numbers")
    _check_index("candidates.target", c.target, n_t)
    _check_index("candidates.reviewer", c.reviewer, n_r)
    _check_index("exclusions.target", x.target, n_t)
    _check_index("exclusions.reviewer", x.reviewer, n_r)
    _check_index("exclusions.kind", x.kind, len(EXCLUSION_KINDS))
