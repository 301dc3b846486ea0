"""The answers of the actions: on a batch (cancel, extend, send), on a call (send-all, manual
assignment, generate), on an item (accept, decline, reassign, suggestions). The messages are
domain.md's, from tasks/errors.py; the serializer puts them into the body."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.types import WireInstant
from tasks.errors import MSG_ACCEPTED, MSG_CANCELLED, MSG_DECLINED, MSG_REASSIGNED, MSG_SENT
from tasks.results import (
    Accepted,
    Alternatives,
    Cancelled,
    Candidate,
    DeadlineExtended,
    Declined,
    ManuallyAssigned,
    Reassigned,
    Sent,
    SentAll,
)


class MessageOut(BaseModel):
    message: str


class ExtendOut(BaseModel):
    expires_at: WireInstant
    status: str


class SendOut(BaseModel):
    detail: str
    expires_at: WireInstant


class SendAllOut(BaseModel):
    """Waldur's answer: two counts (the typed result keeps which batches were skipped, and why)."""

    batches_sent: int
    skipped: int


class SkippedProposalOut(BaseModel):
    proposal_uuid: str
    proposal_name: str
    reason: str


class ManualOut(BaseModel):
    batch_uuid: str | None = Field(description="null when nothing was added and no draft exists")
    items_created: int
    skipped_proposals: list[SkippedProposalOut]


class GenerateOut(BaseModel):
    """A generate-assignments request's answer (tasks.results.Generated.to_json)."""

    batches_created: int
    items_created: int
    proposals_processed: int
    skipped_proposals: list[SkippedProposalOut]


class AnswerOut(BaseModel):
    """accept and decline: the review created (null on a decline)."""

    detail: str
    review_uuid: str | None


class ReassignOut(BaseModel):
    detail: str
    new_item_uuid: str
    new_batch_uuid: str
    has_coi: bool


class SuggestionOut(BaseModel):
    """A pool entry that may take the proposal: the published client's names, then ours."""

    pool_entry_uuid: str
    current_assignments: int
    max_assignments: int
    uuid: str
    reviewer_uuid: str
    reviewer_name: str
    affinity_score: float | None
    workload: int
    capacity_left: int


class SuggestionsOut(BaseModel):
    item_uuid: str
    proposal_uuid: str
    suggestions: list[SuggestionOut]


def cancelled_out(result: Cancelled) -> MessageOut:
    return MessageOut(message=MSG_CANCELLED)


def extended_out(result: DeadlineExtended) -> ExtendOut:
    return ExtendOut(expires_at=result.batch.expires_at, status=result.batch.status.value)


def sent_out(result: Sent) -> SendOut:
    return SendOut(detail=MSG_SENT, expires_at=result.batch.expires_at)


def sent_all_out(result: SentAll) -> SendAllOut:
    return SendAllOut(batches_sent=result.sent, skipped=len(result.skipped))


def manual_out(result: ManuallyAssigned) -> ManualOut:
    return ManualOut.model_validate(
        {
            "batch_uuid": str(result.batch.uuid),
            "items_created": result.items_created,
            "skipped_proposals": [skipped.to_json() for skipped in result.skipped],
        }
    )


def accepted_out(result: Accepted) -> AnswerOut:
    return AnswerOut(detail=MSG_ACCEPTED, review_uuid=str(result.review.uuid))


def declined_out(result: Declined) -> AnswerOut:
    return AnswerOut(detail=MSG_DECLINED, review_uuid=None)


def reassigned_out(result: Reassigned) -> ReassignOut:
    return ReassignOut(
        detail=MSG_REASSIGNED,
        new_item_uuid=str(result.new_item.uuid),
        new_batch_uuid=str(result.new_batch.uuid),
        has_coi=bool(result.new_item.has_coi),
    )


def _suggestion(candidate: Candidate) -> SuggestionOut:
    return SuggestionOut(
        pool_entry_uuid=str(candidate.entry.uuid),
        current_assignments=candidate.workload,
        max_assignments=candidate.workload + candidate.capacity_left,
        uuid=str(candidate.entry.uuid),
        reviewer_uuid=str(candidate.reviewer.uuid),
        reviewer_name=candidate.reviewer.name,
        affinity_score=candidate.affinity,
        workload=candidate.workload,
        capacity_left=candidate.capacity_left,
    )


def suggestions_out(result: Alternatives) -> SuggestionsOut:
    return SuggestionsOut(
        item_uuid=str(result.item.uuid),
        proposal_uuid=str(result.proposal.uuid),
        suggestions=[_suggestion(candidate) for candidate in result.candidates],
    )
