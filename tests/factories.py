"""Small factories: each test creates only what it needs (one row each, or one data file)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from store import (
    Affinity,
    AssignmentBatch,
    Call,
    ConflictOfInterest,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.clock import utcnow
from store.enums import BatchStatus, CoiStatus, InvitationStatus, ReviewState
from store.migrations import ALL_MODELS

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


def candidate(
    call: Call, proposal: Proposal | None = None, score: float | None = None, **fields: Any
) -> ReviewerPoolEntry:
    """A reviewer in the call's pool (accepted unless told), with an affinity to `proposal`."""
    reviewer = make_reviewer(**fields.pop("reviewer_fields", {}))
    entry = make_pool_entry(call, reviewer, **fields)
    if proposal is not None and score is not None:
        make_affinity(call, reviewer, proposal, score)
    return entry


def give_in_review(reviewer: Reviewer, proposal: Proposal, count: int = 1) -> list[Review]:
    """Reviews the reviewer already holds: their current workload."""
    return [
        Review.create(proposal=proposal, reviewer=reviewer, state=ReviewState.IN_REVIEW)
        for _ in range(count)
    ]


# --- assignment batches (the batch workflow) ---------------------------------------------


def make_assignment_batch(
    call: Call, reviewer: Reviewer | None = None, **fields: Any
) -> Any:  # AssignmentBatch
    """A batch of `call` for `reviewer` (a new one if None), draft unless told otherwise; its
    accepted pool entry is created when missing."""
    from store import AssignmentBatch

    reviewer = reviewer or make_reviewer()
    entry = ReviewerPoolEntry.get_or_none(
        ReviewerPoolEntry.call == call.id, ReviewerPoolEntry.reviewer == reviewer.id
    ) or make_pool_entry(call, reviewer)
    return AssignmentBatch.create(call=call, reviewer_pool_entry=entry, **fields)


def make_assignment_item(batch: Any, proposal: Proposal | None = None, **fields: Any) -> Any:
    """An item of `batch` (pending unless told otherwise) for `proposal` (a new one if None)."""
    from store import AssignmentItem

    proposal = proposal or make_proposal(batch.call)
    return AssignmentItem.create(batch=batch, proposal=proposal, **fields)


def make_call_manager(call: Call, **fields: Any) -> User:
    """A user who manages `call` (and nothing else)."""
    from store import CallManager

    user = make_user(**fields)
    CallManager.create(call=call, user=user)
    return user


def make_sent(batch: Any, days_ago: int = 1) -> None:
    """Mark `batch` sent `days_ago` days ago (by the real clock), expiring a week after."""
    sent = utcnow() - timedelta(days=days_ago)
    AssignmentBatch.update(
        status=BatchStatus.SENT, sent_at=sent, expires_at=sent + timedelta(days=7)
    ).where(AssignmentBatch.id == batch.id).execute()


def make_sent_batch(call: Call, expires_at: Any, items: int = 1, **fields: Any) -> Any:
    """A batch of `call` sent a week before `expires_at`, with `items` pending items."""
    from datetime import timedelta

    from store.enums import BatchStatus

    batch = make_assignment_batch(
        call,
        status=BatchStatus.SENT,
        sent_at=expires_at - timedelta(days=7),
        expires_at=expires_at,
        **fields,
    )
    for _ in range(items):
        make_assignment_item(batch)
    return batch


# --- affinities computed from text -------------------------------------------------------


def make_expert(
    call: Call, expertise: dict[str, str], biography: str = "", **fields: Any
) -> Reviewer:
    """A reviewer in `call`'s pool (accepted) with expertise {keyword: proficiency}."""
    listed = [{"keyword": k, "proficiency": level} for k, level in expertise.items()]
    reviewer = make_reviewer(expertise=listed, biography=biography)
    make_pool_entry(call, reviewer, **fields)
    return reviewer


def make_computed_affinity(
    call: Call, reviewer: Reviewer, proposal: Proposal, score: float
) -> Affinity:
    from store.enums import AffinitySource

    return Affinity.create(
        call=call, reviewer=reviewer, proposal=proposal, score=score, source=AffinitySource.COMPUTED
    )


# --- HTTP API --------------------------------------------------------------------------------


def make_deadline_email(dedupe_key: str, recipient: str = "reviewer@example.org") -> int:
    """One pending review-deadline e-mail in the outbox (committed); its id."""
    from store import write_transaction
    from store.enums import NotificationKind
    from tasks.mail.outbox import queue_email

    with write_transaction():
        notification_id = queue_email(
            NotificationKind.REVIEW_DEADLINE,
            recipient=recipient,
            recipient_name="Reviewer",
            template="review_deadline",
            context={
                "proposal_title": "A proposal",
                "review_id": "rev_1",
                "priority": "normal",
                "deadline": utcnow() + timedelta(days=1),
                "link": "http://localhost/reviews/rev_1",
            },
            dedupe_key=dedupe_key,
        )
    assert notification_id is not None
    return notification_id


def with_token(user: User) -> dict[str, str]:
    """Give `user` a fresh API token; return the `Authorization` header that carries it."""
    from tasks.users import rotate_token

    return {"Authorization": f"Token {rotate_token(user)}"}


# --- data files ------------------------------------------------------------------------------


def good_document() -> dict[str, Any]:
    """A data file with one record of every array, all valid, that refer to each other."""
    return {
        "users": [
            {
                "external_id": "u_admin",
                "username": "admin",
                "email": "a@example.org",
                "is_staff": True,
                "token": "t" * 43,
            }
        ],
        "reviewers": [
            {
                "external_id": "user_001",
                "name": "Ada",
                "email": "ada@example.org",
                "organization": "Tartu",
                "user": "u_admin",
                "expertise": [{"keyword": "graph theory", "proficiency": "expert"}],
            }
        ],
        "calls": [
            {
                "external_id": "call_1",
                "name": "Call",
                "managers": ["u_admin"],
                "config": {"reviewers_per_proposal": 2, "auto_reassign_on_decline": True},
            }
        ],
        "proposals": [
            {
                "external_id": "p_1",
                "call": "call_1",
                "name": "P",
                "summary": "S",
                "keywords": ["graph theory", "optimisation"],
                "state": "submitted",
            }
        ],
        "pool": [
            {
                "call": "call_1",
                "reviewer": "user_001",
                "max_assignments": 5,
                "invitation_status": "accepted",
            }
        ],
        "conflicts": [
            {
                "call": "call_1",
                "reviewer": "user_001",
                "proposal": "p_1",
                "coi_type": "INST_SAME",
                "severity": "real",
                "status": "pending",
            }
        ],
        "affinities": [
            {"call": "call_1", "reviewer": "user_001", "proposal": "p_1", "score": 0.82}
        ],
        "reviews": [
            {
                "external_id": "rev_123",
                "proposal": "p_1",
                "priority": "normal",
                "deadline": "2026-12-16T17:00:00Z",
                "reviewer": None,
                "state": "unassigned",
            }
        ],
    }


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, every column: what a load may not change the second time."""
    return {
        model.__name__: [dict(row.__data__) for row in model.select().order_by(model.id)]
        for model in ALL_MODELS
    }
