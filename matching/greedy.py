"""`greedy`: the published batch API's behaviour, the baseline the others are measured against."""

from __future__ import annotations

import numpy as np

from matching.problem import FloatArray, IntArray
from matching.residual import Residual, SolverOutput


def _tie_ends(target: IntArray, score: FloatArray) -> list[int]:
    """For each position of the sorted pairs, the end of its run of equal (target, score)."""
    n = len(target)
    starts_new = np.ones(n + 1, dtype=bool)
    starts_new[1:n] = (target[1:] != target[:-1]) | (score[1:] != score[:-1])
    boundaries = np.flatnonzero(starts_new)
    run = np.searchsorted(boundaries, np.arange(n), side="right")
    return boundaries[np.minimum(run, len(boundaries) - 1)].tolist()


def solve_greedy(residual: Residual) -> SolverOutput:
    """Target by target in index order, the highest-affinity eligible reviewers with room.

    Among equal scores the reviewer with the fewest new assignments so far wins, then the lower
    index, so equal scores spread the load. A reviewer serves at most one target per proposal.
    """
    pairs = residual.pairs
    order = np.lexsort((pairs.reviewer, -pairs.score, pairs.target))
    ends = _tie_ends(pairs.target[order], pairs.score[order])
    bounds = np.searchsorted(pairs.target[order], np.arange(len(residual.demand) + 1)).tolist()
    reviewers = pairs.reviewer[order].tolist()
    room = residual.capacity.tolist()
    load = [0] * len(room)
    proposal = residual.proposal.tolist()
    taken: set[tuple[int, int]] = set()
    chosen = np.zeros(len(pairs), dtype=bool)
    for t, demand in enumerate(residual.demand.tolist()):
        need, k = demand, bounds[t]
        while need > 0 and k < bounds[t + 1]:
            run = range(k, ends[k])
            for j in sorted(run, key=lambda j: (load[reviewers[j]], reviewers[j])):
                r = reviewers[j]
                if need > 0 and room[r] > 0 and (proposal[t], r) not in taken:
                    room[r], load[r], need = room[r] - 1, load[r] + 1, need - 1
                    taken.add((proposal[t], r))
                    chosen[order[j]] = True
            k = ends[k]
    return SolverOutput(chosen)
