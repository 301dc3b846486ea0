"""What the use cases return: the rows they changed, and the mail to deliver after the commit.

A use case writes its outbox rows inside its transaction and returns their ids; the caller
(HTTP view, CLI, actor) calls `deliver` only after that transaction has committed. The results
carry rows and facts, never HTTP bodies: api/serializers/ turns them into JSON. A queued
request's result is part of the request record, so it renders its stored answer itself
(`to_json`, the StoredAnswer protocol).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from store import (
    AssignmentBatch,
    AssignmentItem,
    ConflictOfInterest,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
)
from store.enums import CoiStatus, ItemStatus
from tasks.mail.outbox import enqueue_deliveries


@dataclass(frozen=True, kw_only=True)
class UseCaseResult:
    """A use case's result: the outbox ids to deliver once its transaction has committed."""

    notification_ids: list[int] = field(default_factory=list)


class StoredAnswer(Protocol):
    """A queued request's result: its mail, and the answer stored in the request row."""

    @property
    def notification_ids(self) -> list[int]: ...

    def to_json(self) -> dict[str, Any]: ...


def deliver(result: UseCaseResult) -> None:
    """Enqueue the deliveries of `result`; raises if called inside an open transaction."""
    enqueue_deliveries(result.notification_ids)


# --- batches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cancelled(UseCaseResult):
    batch: AssignmentBatch


@dataclass(frozen=True)
class DeadlineExtended(UseCaseResult):
    """The batch with its new `expires_at` and status (sent)."""

    batch: AssignmentBatch


@dataclass(frozen=True)
class Sent(UseCaseResult):
    """The batch sent: its `expires_at` is the invitation's deadline."""

    batch: AssignmentBatch


@dataclass(frozen=True)
class SkippedBatch:
    """A batch send-all did not send, and why (a tasks.errors message)."""

    batch_uuid: str
    reason: str


@dataclass(frozen=True)
class SentAll(UseCaseResult):
    sent: int
    skipped: list[SkippedBatch]


@dataclass(frozen=True)
class SkippedProposal:
    """A proposal generate or manual assignment left out, and why."""

    proposal: Proposal
    reason: str

    def to_json(self) -> dict[str, Any]:
        proposal = self.proposal
        return {
            "proposal_uuid": str(proposal.uuid),
            "proposal_name": proposal.name,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ManuallyAssigned(UseCaseResult):
    """The manual draft (always there afterwards) and what went into it."""

    batch: AssignmentBatch
    items_created: int
    skipped: list[SkippedProposal]


@dataclass(frozen=True)
class Generated(UseCaseResult):
    """What generate-assignments created (drafts only: no mail); a queued request's answer."""

    batches_created: int
    items_created: int
    proposals_processed: int
    skipped: list[SkippedProposal]

    def to_json(self) -> dict[str, Any]:
        return {
            "batches_created": self.batches_created,
            "items_created": self.items_created,
            "proposals_processed": self.proposals_processed,
            "skipped_proposals": [skipped.to_json() for skipped in self.skipped],
        }


@dataclass(frozen=True)
class BulkAssigned(UseCaseResult):
    """The seeds/004 answer of a bulk assignment (stored in its request), and its mail."""

    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.body


# --- items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted(UseCaseResult):
    item: AssignmentItem
    review: Review


@dataclass(frozen=True)
class Declined(UseCaseResult):
    """The declined item; `notification_ids` hold an automatic reassignment's invitation."""

    item: AssignmentItem


@dataclass(frozen=True)
class Reassigned(UseCaseResult):
    """The old item (now reassigned), its successor and the new draft batch holding it."""

    old_item: AssignmentItem
    new_item: AssignmentItem
    new_batch: AssignmentBatch


@dataclass(frozen=True)
class Unblocked(UseCaseResult):
    """The item force-unblocked: coi_blocked -> `status` (pending)."""

    item: AssignmentItem
    status: ItemStatus = ItemStatus.PENDING


@dataclass(frozen=True)
class ConflictDecided(UseCaseResult):
    """A conflict's new status, the one it had, and the items and reviews that changed."""

    conflict: ConflictOfInterest
    status: CoiStatus
    previous_status: CoiStatus
    unblocked_item_uuids: list[str] = field(default_factory=list)
    blocked_item_uuids: list[str] = field(default_factory=list)
    rejected_review_uuids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A pool entry that may take the proposal, and why it ranks where it does."""

    entry: ReviewerPoolEntry
    reviewer: Reviewer
    affinity: float | None
    workload: int
    capacity_left: int


@dataclass(frozen=True)
class Alternatives:
    """Read only: the eligible pool entries for the item's proposal, best first."""

    item: AssignmentItem
    proposal: Proposal
    candidates: list[Candidate]


# --- reviewer pools --------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolInvited(UseCaseResult):
    """The pool entries an invitation (add or resend) concerns, and their e-mails."""

    entries: list[ReviewerPoolEntry]


@dataclass(frozen=True)
class PoolAnswered(UseCaseResult):
    """A reviewer's answer to their pool invitation, and the uuids of the conflicts their
    declarations recorded."""

    entry: ReviewerPoolEntry
    declared_conflicts: list[str] = field(default_factory=list)
