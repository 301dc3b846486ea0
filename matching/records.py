"""Build a problem from labelled records (ids, not indices): files, imports, the CLI."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from matching.problem import (
    EXCLUSION_KINDS,
    Exclusions,
    MatchingProblem,
    Pairs,
    Reviewers,
    Targets,
    int_array,
)
from matching.reasons import ExclusionKind


def call_problem(
    scores: Sequence[tuple[str, str, float]],
    conflicts: Iterable[tuple[str, str]] = (),
    *,
    reviewers_per_proposal: int,
    max_load: int,
    min_load: int = 0,
) -> MatchingProblem:
    """One target per proposal with demand k; every reviewer with the same load limits.

    Proposals and reviewers are those named in `scores` (or `conflicts`), sorted by id so that
    the result does not depend on row order. Pairs absent from `scores` are not candidates.
    """
    conflicts = list(conflicts)
    proposals = sorted({p for p, _, _ in scores} | {p for p, _ in conflicts})
    reviewers = sorted({r for _, r, _ in scores} | {r for _, r in conflicts})
    p_index = {p: i for i, p in enumerate(proposals)}
    r_index = {r: i for i, r in enumerate(reviewers)}
    candidates = Pairs.of(
        [p_index[p] for p, _, _ in scores],
        [r_index[r] for _, r, _ in scores],
        np.array([s for _, _, s in scores], dtype=np.float64),
    )
    exclusions = Exclusions.of(
        [p_index[p] for p, _ in conflicts],
        [r_index[r] for _, r in conflicts],
        [ExclusionKind.CONFLICT] * len(conflicts),
    )
    mins = int_array(np.full(len(reviewers), min_load)) if min_load else None
    return MatchingProblem(
        targets=Targets.one_per_proposal(proposals, reviewers_per_proposal),
        reviewers=Reviewers(reviewers, int_array(np.full(len(reviewers), max_load)), mins),
        candidates=candidates,
        exclusions=exclusions,
    )


def indexed_call_problem(
    proposals: Sequence[Hashable],
    reviewers: Sequence[Hashable],
    scores: Pairs,
    conflicts: tuple[object, object] = ((), ()),
    *,
    reviewers_per_proposal: int,
    max_load: int,
    min_load: int = 0,
) -> MatchingProblem:
    """`call_problem` for input already indexed (vectorised readers): `scores` indexes
    `proposals` and `reviewers`; `conflicts` is (proposal indices, reviewer indices)."""
    c_target, c_reviewer = int_array(conflicts[0]), int_array(conflicts[1])
    n_r = len(reviewers)
    mins = int_array(np.full(n_r, min_load)) if min_load else None
    return MatchingProblem(
        targets=Targets.one_per_proposal(proposals, reviewers_per_proposal),
        reviewers=Reviewers(reviewers, int_array(np.full(n_r, max_load)), mins),
        candidates=scores,
        exclusions=Exclusions(
            c_target,
            c_reviewer,
            int_array(np.full(len(c_target), EXCLUSION_KINDS.index(ExclusionKind.CONFLICT))),
        ),
    )
