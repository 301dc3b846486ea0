"""Small factories of matching problems for the tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from numpy.typing import ArrayLike

from matching.problem import Exclusions, MatchingProblem, Pairs, Reviewers, Targets
from matching.reasons import ExclusionKind


def complete_problem(
    scores: ArrayLike, *, demand: int = 1, capacity: int = 10, min_load: int = 0
) -> MatchingProblem:
    """scores[t][r] for every target t and reviewer r; one target per proposal."""
    matrix = np.asarray(scores, dtype=np.float64)
    t, r = np.nonzero(np.ones_like(matrix))
    return MatchingProblem(
        targets=Targets.one_per_proposal([f"p{i}" for i in range(matrix.shape[0])], demand),
        reviewers=Reviewers.uniform([f"r{j}" for j in range(matrix.shape[1])], capacity, min_load),
        candidates=Pairs.of(t, r, matrix[t, r]),
    )


def with_conflicts(problem: MatchingProblem, pairs: Sequence[tuple[int, int]]) -> MatchingProblem:
    return MatchingProblem(
        problem.targets,
        problem.reviewers,
        problem.candidates,
        Exclusions.of(
            [t for t, _ in pairs], [r for _, r in pairs], [ExclusionKind.CONFLICT] * len(pairs)
        ),
    )


def random_problem(
    seed: int,
    n_targets: int = 12,
    n_reviewers: int = 8,
    density: float = 0.6,
    demand: int = 2,
    capacity: int = 4,
) -> MatchingProblem:
    """A seeded random sparse problem with a few conflicts."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_targets, n_reviewers)) < density
    t, r = np.nonzero(mask)
    conflict = rng.random(len(t)) < 0.05
    return MatchingProblem(
        targets=Targets.one_per_proposal(list(range(n_targets)), demand),
        reviewers=Reviewers.uniform(list(range(n_reviewers)), capacity),
        candidates=Pairs.of(t, r, np.round(rng.random(len(t)), 3)),
        exclusions=Exclusions.of(
            t[conflict], r[conflict], [ExclusionKind.CONFLICT] * int(conflict.sum())
        ),
    )


@st.composite
def problems(draw: st.DrawFn) -> MatchingProblem:
    """Arbitrary small problems: shared proposals, zero capacities, negative scores, exclusions."""
    n_t = draw(st.integers(1, 6))
    n_r = draw(st.integers(1, 6))
    proposal = draw(st.lists(st.integers(0, n_t - 1), min_size=n_t, max_size=n_t))
    demand = draw(st.lists(st.integers(0, 3), min_size=n_t, max_size=n_t))
    capacity = draw(st.lists(st.integers(0, 4), min_size=n_r, max_size=n_r))
    all_pairs = [(t, r) for t in range(n_t) for r in range(n_r)]
    cands = draw(st.lists(st.sampled_from(all_pairs), unique=True, max_size=len(all_pairs)))
    score = st.floats(-1, 1, allow_nan=False).map(lambda x: round(x, 4))
    scores = draw(st.lists(score, min_size=len(cands), max_size=len(cands)))
    banned = draw(st.lists(st.sampled_from(all_pairs), unique=True, max_size=3))
    return MatchingProblem(
        targets=Targets([f"t{i}" for i in range(n_t)], np.array(demand), np.array(proposal)),
        reviewers=Reviewers([f"r{j}" for j in range(n_r)], np.array(capacity)),
        candidates=Pairs.of([c[0] for c in cands], [c[1] for c in cands], scores),
        exclusions=Exclusions.of(
            [b[0] for b in banned], [b[1] for b in banned], [ExclusionKind.CONFLICT] * len(banned)
        ),
    )
