"""A call's reviewer pool invitations: a manager adds reviewers (pending entries, each
invited by e-mail) or resends an invitation; the reviewer accepts (declaring conflicts of
interest if they have any) or declines. Only an `accepted` entry receives work (domain.md).

Permissions as for batches: the call's managers and staff manage its pool; only the entry's
own reviewer answers it (a manager who may see it gets Forbidden, anyone else NotFound).
Locks follow store/locks.py: the Call (when conflicts are written), then the Reviewer, then
the pool entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store import (
    ConflictOfInterest,
    Proposal,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.clock import utcnow
from store.enums import CoiSeverity, DetectionMethod, InvitationStatus
from store.lookups import as_uuid, resolve_ids
from tasks.access import is_manager_of
from tasks.errors import (
    MSG_INVITATION_NOT_PENDING,
    MSG_PROPOSAL_NOT_IN_CALL,
    MSG_RESEND_NOT_ALLOWED,
    MSG_UNKNOWN_REVIEWERS,
    FieldRejected,
    Forbidden,
    InvitationRefused,
    NotFound,
    RuleViolation,
    not_a_valid_choice,
)
from tasks.mail.pool_invitations import queue_pool_invitation
from tasks.results import PoolAnswered, PoolInvited
from tasks.rows import find, lock_call, lock_managed_call, relock_pool_entry, save_pool_entry
from tasks.rules import COI_TYPES, RESENDABLE_INVITATIONS


@dataclass(frozen=True)
class DeclaredConflict:
    """A conflict of interest the reviewer declares on accepting (Waldur's
    SelfDeclaredConflictRequest)."""

    proposal_uuid: str
    coi_type: str
    severity: str = CoiSeverity.APPARENT.value
    description: str = ""


def add_reviewers(
    actor: User,
    call_token: str,
    reviewer_tokens: Sequence[str],
    *,
    max_assignments: int | None = None,
    message: str = "",
    now: datetime | None = None,
) -> PoolInvited:
    """Invite these reviewers (uuids or external ids) to the call's pool: a pending entry for
    each one not yet in it, invited by e-mail; those already in it are left as they are. The
    result lists the entries of every named reviewer, in input order. All or nothing: an
    unknown reviewer is FieldRejected on `reviewer_uuids` and nothing changes."""
    current = now or utcnow()
    with write_transaction():
        call = lock_managed_call(actor, call_token)
        found, missing = resolve_ids(Reviewer, list(reviewer_tokens))
        if missing:
            raise FieldRejected(
                "reviewer_uuids", MSG_UNKNOWN_REVIEWERS.format(ids=", ".join(missing))
            )
        entries, mail = [], []
        for token in dict.fromkeys(reviewer_tokens):
            reviewer = found[token]
            entry = (
                ReviewerPoolEntry.select()
                .where(ReviewerPoolEntry.call == call.id, ReviewerPoolEntry.reviewer == reviewer.id)
                .first()
            )
            if entry is None:
                values = {"max_assignments": max_assignments} if max_assignments else {}
                entry = ReviewerPoolEntry.create(
                    call=call.id, reviewer=reviewer.id, invited_by=actor.id, **values
                )
                mail.append(queue_pool_invitation(entry, current, message))
            entries.append(entry)
    return PoolInvited(entries, notification_ids=[i for i in mail if i is not None])


def resend_invitation(actor: User, entry_uuid: str, now: datetime | None = None) -> PoolInvited:
    """A manager sends a pending (or expired: it becomes pending again) invitation once more,
    through the outbox. RuleViolation for an answered one."""
    current = now or utcnow()
    with write_transaction():
        entry = _managed_entry(actor, entry_uuid)
        fresh = relock_pool_entry(entry)
        if fresh is None:
            raise NotFound("reviewer pool entry")
        if fresh.invitation_status not in RESENDABLE_INVITATIONS:
            raise RuleViolation(MSG_RESEND_NOT_ALLOWED)
        save_pool_entry(fresh, invitation_status=InvitationStatus.PENDING, invited_by=actor.id)
        mail = queue_pool_invitation(fresh, current)
    return PoolInvited([fresh], notification_ids=[mail] if mail is not None else [])


def accept_invitation(
    actor: User,
    entry_uuid: str,
    declared: Sequence[DeclaredConflict] = (),
    now: datetime | None = None,
) -> PoolAnswered:
    """The entry's reviewer accepts their pending invitation, declaring conflicts of interest
    with proposals of the call (each a pending, self-disclosed conflict; one already recorded
    with that type is kept as it is). Refuses a bad declaration (FieldRejected naming the
    field) or an answered invitation (InvitationRefused) and then changes nothing."""
    current = now or utcnow()
    with write_transaction():
        entry = _own_entry(actor, entry_uuid)
        lock_call(entry.call_id)  # conflicts are written: before any generate reads them
        fresh = _pending(relock_pool_entry(entry))
        rows = _declared_rows(fresh, declared)
        created = []
        for row in rows:
            inserted = ConflictOfInterest.insert(**row).on_conflict_ignore().as_rowcount()
            if inserted.execute():
                created.append(_declared_uuid(row))
        save_pool_entry(fresh, invitation_status=InvitationStatus.ACCEPTED, response_date=current)
    return PoolAnswered(fresh, declared_conflicts=created)


def decline_invitation(
    actor: User, entry_uuid: str, reason: str, now: datetime | None = None
) -> PoolAnswered:
    """The entry's reviewer declines their pending invitation, with a reason."""
    current = now or utcnow()
    with write_transaction():
        entry = _own_entry(actor, entry_uuid)
        fresh = _pending(relock_pool_entry(entry))
        save_pool_entry(
            fresh,
            invitation_status=InvitationStatus.DECLINED,
            response_date=current,
            decline_reason=reason,
        )
    return PoolAnswered(fresh)


def _managed_entry(actor: User, entry_uuid: str) -> ReviewerPoolEntry:
    entry = find(ReviewerPoolEntry, entry_uuid, "reviewer pool entry")
    if is_manager_of(actor, entry.call_id):
        return entry
    if _is_own(actor, entry):
        raise Forbidden()
    raise NotFound("reviewer pool entry")


def _own_entry(actor: User, entry_uuid: str) -> ReviewerPoolEntry:
    entry = find(ReviewerPoolEntry, entry_uuid, "reviewer pool entry")
    if _is_own(actor, entry):
        return entry
    if is_manager_of(actor, entry.call_id):
        raise Forbidden()
    raise NotFound("reviewer pool entry")


def _is_own(actor: User, entry: ReviewerPoolEntry) -> bool:
    return bool(
        Reviewer.select()
        .where(Reviewer.id == entry.reviewer_id, Reviewer.user == actor.id)
        .exists()
    )


def _pending(entry: ReviewerPoolEntry | None) -> ReviewerPoolEntry:
    if entry is None:
        raise NotFound("reviewer pool entry")
    if entry.invitation_status != InvitationStatus.PENDING:
        raise InvitationRefused("invitation_not_pending", MSG_INVITATION_NOT_PENDING)
    return entry


def _declared_uuid(row: dict[str, object]) -> str:
    """The uuid of the conflict just recorded for this declaration (its unique key)."""
    found = ConflictOfInterest.get(
        ConflictOfInterest.call == row["call"],
        ConflictOfInterest.reviewer == row["reviewer"],
        ConflictOfInterest.proposal == row["proposal"],
        ConflictOfInterest.coi_type == row["coi_type"],
    )
    return str(found.uuid)


def _declared_rows(
    entry: ReviewerPoolEntry, declared: Sequence[DeclaredConflict]
) -> list[dict[str, object]]:
    rows = []
    for conflict in declared:
        parsed = as_uuid(conflict.proposal_uuid)
        proposal = (
            Proposal.select().where(Proposal.uuid == parsed, Proposal.call == entry.call_id).first()
            if parsed
            else None
        )
        if proposal is None:
            raise FieldRejected("proposal_uuid", MSG_PROPOSAL_NOT_IN_CALL)
        if conflict.coi_type not in COI_TYPES:
            raise FieldRejected("coi_type", not_a_valid_choice(conflict.coi_type))
        try:
            severity = CoiSeverity(conflict.severity)
        except ValueError:
            raise FieldRejected("severity", not_a_valid_choice(conflict.severity)) from None
        rows.append(
            {
                "call": entry.call_id,
                "reviewer": entry.reviewer_id,
                "proposal": proposal.id,
                "coi_type": conflict.coi_type,
                "severity": severity,
                "evidence": conflict.description,
                "detection_method": DetectionMethod.SELF_DISCLOSED,
            }
        )
    return rows
