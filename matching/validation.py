"""An independent check of the hard constraints, for tests and the benchmark.

Deliberately shares no code with the solvers: plain Python sets and counters over the raw
problem, and scipy's own max-flow for the coverage check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import maximum_flow

from matching.problem import MatchingProblem, Pairs

SCORE_TOLERANCE = 1e-9
Chosen = list[tuple[int, int, float]]


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


def find_violations(problem: MatchingProblem, pairs: Pairs) -> list[Violation]:
    """Every broken hard constraint of `pairs` (the whole assignment, fixed parts included)."""
    chosen = list(
        zip(pairs.target.tolist(), pairs.reviewer.tolist(), pairs.score.tolist(), strict=True)
    )
    n_t, n_r = len(problem.targets), len(problem.reviewers)
    unknown = [(t, r, s) for t, r, s in chosen if not (0 <= t < n_t and 0 <= r < n_r)]
    if unknown:
        return [Violation("unknown index", f"target {t}, reviewer {r}") for t, r, _ in unknown]
    return (
        _not_candidates(problem, chosen)
        + _excluded(problem, chosen)
        + _repeated(problem, chosen)
        + _over_capacity(problem, chosen)
        + _over_demand(problem, chosen)
    )


def _not_candidates(problem: MatchingProblem, chosen: Chosen) -> list[Violation]:
    c = problem.candidates
    best: dict[tuple[int, int], float] = {}
    for t, r, s in zip(c.target.tolist(), c.reviewer.tolist(), c.score.tolist(), strict=True):
        best[(t, r)] = max(s, best.get((t, r), s))
    out = []
    for t, r, s in chosen:
        if (t, r) not in best:
            out.append(Violation("not a candidate", f"target {t}, reviewer {r}"))
        elif abs(best[(t, r)] - s) > SCORE_TOLERANCE:
            out.append(Violation("wrong score", f"target {t}, reviewer {r}: {s} != {best[(t, r)]}"))
    return out


def _excluded(problem: MatchingProblem, chosen: Chosen) -> list[Violation]:
    x = problem.exclusions
    forbidden = set(zip(x.target.tolist(), x.reviewer.tolist(), strict=True))
    return [
        Violation("excluded pair", f"target {t}, reviewer {r}")
        for t, r, _ in chosen
        if (t, r) in forbidden
    ]


def _repeated(problem: MatchingProblem, chosen: Chosen) -> list[Violation]:
    proposal = problem.targets.proposal.tolist()
    per_proposal = Counter((proposal[t], r) for t, r, _ in chosen)
    return [
        Violation("reviewer twice on one proposal", f"proposal {p}, reviewer {r}: {n} times")
        for (p, r), n in per_proposal.items()
        if n > 1
    ]


def _over_capacity(problem: MatchingProblem, chosen: Chosen) -> list[Violation]:
    capacity = problem.reviewers.capacity.tolist()
    loads = Counter(r for _, r, _ in chosen)
    return [
        Violation("over capacity", f"reviewer {r}: {n} > {capacity[r]}")
        for r, n in loads.items()
        if n > capacity[r]
    ]


def _over_demand(problem: MatchingProblem, chosen: Chosen) -> list[Violation]:
    demand = problem.targets.demand.tolist()
    got = Counter(t for t, _, _ in chosen)
    return [
        Violation("over demand", f"target {t}: {n} > {demand[t]}")
        for t, n in got.items()
        if n > demand[t]
    ]


def max_assignable(problem: MatchingProblem) -> int:
    """The most pairs any valid assignment can hold (scipy max-flow over the raw problem)."""
    x = problem.exclusions
    forbidden = set(zip(x.target.tolist(), x.reviewer.tolist(), strict=True))
    c = problem.candidates
    eligible = sorted(set(zip(c.target.tolist(), c.reviewer.tolist(), strict=True)) - forbidden)
    proposal = problem.targets.proposal.tolist()
    gates = sorted({(proposal[t], r) for t, r in eligible})
    n_t, n_r, n_g = len(problem.targets), len(problem.reviewers), len(gates)
    gate_index = {g: i for i, g in enumerate(gates)}
    source, sink = 0, 1 + n_t + n_g + n_r
    tgt, gate, rev = 1, 1 + n_t, 1 + n_t + n_g
    edges = [(source, tgt + t, d) for t, d in enumerate(problem.targets.demand.tolist())]
    edges += [(tgt + t, gate + gate_index[(proposal[t], r)], 1) for t, r in eligible]
    edges += [(gate + i, rev + r, 1) for i, (_, r) in enumerate(gates)]
    edges += [(rev + r, sink, cap) for r, cap in enumerate(problem.reviewers.capacity.tolist())]
    tails, heads, caps = (np.array(col, dtype=np.int32) for col in zip(*edges, strict=True))
    graph = coo_matrix((caps, (tails, heads)), shape=(sink + 1, sink + 1)).tocsr()
    return int(maximum_flow(graph, source, sink).flow_value)
