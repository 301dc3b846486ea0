"""The pure matching engine: no database, no broker. Plain ids and numpy arrays in and out."""

from matching.affinity import AffinityInputs, ProposalText, ReviewerProfile, compute_affinities
from matching.errors import (
    ImpossibleConstraintError,
    InvalidProblemError,
    MatchingError,
    SolverFailedError,
)
from matching.feasibility import Diagnosis, diagnose, diagnose_problem
from matching.problem import Exclusions, MatchingProblem, Pairs, Reviewers, Targets
from matching.reasons import Algorithm, ExclusionKind, ShortfallReason
from matching.records import call_problem
from matching.residual import SolveOptions, residual_of
from matching.result import MatchingMetrics, MatchingResult, Shortfall
from matching.solve import solve
from matching.validation import Violation, find_violations

__all__ = [
    "AffinityInputs",
    "Algorithm",
    "Diagnosis",
    "ExclusionKind",
    "Exclusions",
    "ImpossibleConstraintError",
    "InvalidProblemError",
    "MatchingError",
    "MatchingMetrics",
    "MatchingProblem",
    "MatchingResult",
    "Pairs",
    "ProposalText",
    "ReviewerProfile",
    "Reviewers",
    "Shortfall",
    "ShortfallReason",
    "SolveOptions",
    "SolverFailedError",
    "Targets",
    "Violation",
    "call_problem",
    "compute_affinities",
    "diagnose",
    "diagnose_problem",
    "find_violations",
    "residual_of",
    "solve",
]
