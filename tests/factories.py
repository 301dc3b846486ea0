"""Small factories: each test creates only what it needs."""

from __future__ import annotations

import itertools
from typing import Any

from store import (
    Affinity,
    Call,
    ConflictOfInterest,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.enums import CoiStatus, InvitationStatus, ReviewState

_seq = itertools.count(1)


def make_user(**fields: Any) -> User:
    n = next(_seq)
    fields.setdefault("username", f"user{n}")
    fields.setdefault("email", f"user{n}@example.org")
    return User.create(**fields)


def make_reviewer(external_id: str | None = None, **fields: Any) -> Reviewer:
    n = next(_seq)
    fields.setdefault("name", f"Reviewer {n}")
    fields.setdefault("email", f"reviewer{n}@example.org")
    return Reviewer.create(external_id=external_id, **fields)


def make_call(**fields: Any) -> Call:
    fields.setdefault("name", f"Call {next(_seq)}")
    return Call.create(**fields)


def make_proposal(call: Call, **fields: Any) -> Proposal:
    n = next(_seq)
    fields.setdefault("name", f"Proposal {n}")
    fields.setdefault("slug", f"proposal-{n}")
    return Proposal.create(call=call, **fields)


def make_review(proposal: Proposal, external_id: str | None = None, **fields: Any) -> Review:
    return Review.create(proposal=proposal, external_id=external_id, **fields)


def make_pool_entry(call: Call, reviewer: Reviewer, **fields: Any) -> ReviewerPoolEntry:
    fields.setdefault("invitation_status", InvitationStatus.ACCEPTED)
    return ReviewerPoolEntry.create(call=call, reviewer=reviewer, **fields)


def make_conflict(
    call: Call, reviewer: Reviewer, proposal: Proposal, status: CoiStatus = CoiStatus.PENDING
) -> ConflictOfInterest:
    return ConflictOfInterest.create(
        call=call, reviewer=reviewer, proposal=proposal, coi_type="INST_SAME", status=status
    )


def make_affinity(call: Call, reviewer: Reviewer, proposal: Proposal, score: float) -> Affinity:
    return Affinity.create(call=call, reviewer=reviewer, proposal=proposal, score=score)


def give_in_review(reviewer: Reviewer, proposal: Proposal, count: int = 1) -> list[Review]:
    """Reviews the reviewer already holds: their current workload."""
    return [
        Review.create(proposal=proposal, reviewer=reviewer, state=ReviewState.IN_REVIEW)
        for _ in range(count)
    ]
