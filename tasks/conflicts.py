"""Reading conflicts of interest as the API offers them (`/api/conflicts-of-interest/`); the
decisions (dismiss, waive, recuse) and their effects on items are tasks/items/coi.py's.

Visibility (tasks/access.py): staff and the call's managers, who decide them; anything else is
NotFound. Lists filter by call, reviewer, proposal (uuids), status, severity and type, ordered
by `o` among ORDERING_KEYS (default newest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from store import Call, ConflictOfInterest, Proposal, Reviewer, User
from store.enums import CoiSeverity, CoiStatus
from store.lookups import as_uuid
from tasks.access import visible_conflicts_condition
from tasks.batches.listing import (
    DEFAULT_PAGE_SIZE,
    choices,
    ordering_clauses,
    paged,
    uuid_field,
)
from tasks.errors import FieldRejected, NotFound, invalid_choice
from tasks.rules import COI_TYPES

ORDERING_KEYS = {
    "created": ConflictOfInterest.created,
    "detected_at": ConflictOfInterest.created,
    "severity": ConflictOfInterest.severity,
    "status": ConflictOfInterest.status,
}


@dataclass(frozen=True)
class ConflictFilters:
    """The list filters; None and empty tuples mean "any"."""

    call_uuid: str | None = None
    reviewer_uuid: str | None = None
    proposal_uuid: str | None = None
    status: Sequence[str] = ()
    severity: str | None = None
    coi_type: Sequence[str] = ()


def _selected() -> Any:
    decider = User.alias("decider")
    return (
        ConflictOfInterest.select(ConflictOfInterest, Reviewer, Proposal, Call, decider)
        .join(Reviewer, on=(ConflictOfInterest.reviewer == Reviewer.id))
        .switch(ConflictOfInterest)
        .join(Proposal, on=(ConflictOfInterest.proposal == Proposal.id))
        .switch(ConflictOfInterest)
        .join(Call, on=(ConflictOfInterest.call == Call.id))
        .switch(ConflictOfInterest)
        .join(decider, JOIN.LEFT_OUTER, on=(ConflictOfInterest.reviewed_by == decider.id))
    )


def _visible(actor: User) -> Any:
    condition = visible_conflicts_condition(actor)
    query = _selected()
    return query if condition is None else query.where(condition)


def get_conflict(actor: User, coi_uuid: str) -> ConflictOfInterest:
    """The conflict `actor` may see (with its reviewer, proposal, call and decider)."""
    parsed = as_uuid(coi_uuid)
    found = _visible(actor).where(ConflictOfInterest.uuid == parsed).first() if parsed else None
    if found is None:
        raise NotFound("conflict of interest")
    conflict: ConflictOfInterest = found
    return conflict


def list_conflicts(
    actor: User,
    filters: ConflictFilters = ConflictFilters(),
    *,
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> tuple[list[ConflictOfInterest], int]:
    """One page of the conflicts `actor` may see that match `filters`, and their count.
    FieldRejected names a bad uuid, choice or ordering key."""
    query = _visible(actor)
    if filters.call_uuid is not None:
        query = query.where(Call.uuid == uuid_field("call_uuid", filters.call_uuid))
    if filters.reviewer_uuid is not None:
        query = query.where(Reviewer.uuid == uuid_field("reviewer_uuid", filters.reviewer_uuid))
    if filters.proposal_uuid is not None:
        query = query.where(Proposal.uuid == uuid_field("proposal_uuid", filters.proposal_uuid))
    if filters.status:
        query = query.where(
            ConflictOfInterest.status.in_(choices("status", CoiStatus, filters.status))
        )
    if filters.severity is not None:
        (severity,) = choices("severity", CoiSeverity, [filters.severity])
        query = query.where(ConflictOfInterest.severity == severity)
    if filters.coi_type:
        bad = [t for t in filters.coi_type if t not in COI_TYPES]
        if bad:
            raise FieldRejected("coi_type", invalid_choice(bad[0]))
        query = query.where(ConflictOfInterest.coi_type.in_(list(filters.coi_type)))
    total = int(query.count())
    query = query.order_by(*ordering_clauses(ordering, ORDERING_KEYS, ConflictOfInterest))
    return list(paged(query, page, page_size)), total
