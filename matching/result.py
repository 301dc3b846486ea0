"""The output of a matching: chosen pairs, shortfalls with reasons, metrics."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from matching.problem import MatchingProblem, Pairs
from matching.reasons import ShortfallReason


@dataclass(frozen=True)
class Shortfall:
    """A target that got `missing` fewer reviewers than it demanded, and why."""

    target: int
    missing: int
    reason: ShortfallReason


@dataclass(frozen=True)
class MatchingMetrics:
    total: float
    mean: float
    #: per-proposal score = the sum of its reviewers' affinities (over all its targets)
    min_proposal_score: float
    p10_proposal_score: float
    median_proposal_score: float
    load_min: int
    load_max: int
    load_std: float
    assigned: int
    demand: int
    solve_seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class MatchingResult:
    """Chosen pairs (sorted by target, then reviewer), shortfalls, metrics.

    `pairs` includes the fixed assignments of an incremental re-solve; `fixed[i]` tells them apart.
    """

    problem: MatchingProblem
    algorithm: str
    pairs: Pairs
    shortfalls: tuple[Shortfall, ...]
    metrics: MatchingMetrics
    fixed_count: int = 0
    warnings: tuple[str, ...] = field(default=())

    def assignments_by_target(self) -> dict[Hashable, list[tuple[Hashable, float]]]:
        """Target id -> [(reviewer id, score)] for every target, best score first."""
        t_ids, r_ids = self.problem.targets.ids, self.problem.reviewers.ids
        out: dict[Hashable, list[tuple[Hashable, float]]] = {t: [] for t in t_ids}
        for t, r, s in zip(self.pairs.target, self.pairs.reviewer, self.pairs.score, strict=True):
            out[t_ids[int(t)]].append((r_ids[int(r)], float(s)))
        for chosen in out.values():
            chosen.sort(key=lambda rs: -rs[1])
        return out

    def unfilled_by_target(self) -> dict[Hashable, str]:
        """Target id -> reason, for every target left short."""
        ids = self.problem.targets.ids
        return {ids[s.target]: s.reason.value for s in self.shortfalls}
