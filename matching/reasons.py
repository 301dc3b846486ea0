"""The names the engine gives to things: algorithms, exclusion kinds, shortfall reasons."""

from __future__ import annotations

from enum import StrEnum


class Algorithm(StrEnum):
    GREEDY = "greedy"
    OPTIMAL = "optimal"
    FAIR = "fair"


class ExclusionKind(StrEnum):
    """Why a reviewer must not get a target (the caller decides; the engine obeys)."""

    CONFLICT = "conflict of interest"
    HAS_ITEM = "already has an item for this proposal"
    DECLINED = "declined this proposal before"
    UNAVAILABLE = "not available for reviews"


class ShortfallReason(StrEnum):
    """Why a target got fewer reviewers than its demand."""

    NO_ELIGIBLE = "no eligible reviewer"
    CONFLICT = "conflict of interest"
    TOO_FEW_ELIGIBLE = "fewer eligible reviewers than required"
    AT_CAPACITY = "all eligible reviewers at capacity"
