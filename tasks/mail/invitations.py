"""The invitation e-mail of a sent batch (domain.md, Notifications), written to the outbox.

What the reviewer sees of each proposal follows the call's `proposal_disclosure`: the title
always; the summary with `titles_and_summaries` or `full_details`; keywords and organization
too with `full_details`. An item blocked by a conflict of interest shows its title only, marked
on hold. The link to respond is the reviewer's personal signed link (tasks/links.py).
"""

from __future__ import annotations

import logging
from typing import Any

from store import AssignmentBatch, AssignmentItem, Call, Proposal, Reviewer
from store.enums import Disclosure, ItemStatus, NotificationKind
from tasks.links import response_link
from tasks.mail.outbox import (
    InvalidRecipientError,
    notification_dedupe_key,
    queue_email,
)
from tasks.rules import SUMMARY_LEVELS

logger = logging.getLogger(__name__)


def invitation_dedupe_key(batch: AssignmentBatch) -> str:
    """`invitation:<batch uuid>:<sent_at>`: one invitation per batch and send occasion."""
    sent_at = batch.sent_at.isoformat(timespec="microseconds") if batch.sent_at else "unsent"
    return notification_dedupe_key(NotificationKind.INVITATION, batch.uuid, sent_at)


def queue_invitation(batch: AssignmentBatch) -> int | None:
    """Write the invitation of `batch` (already marked sent) to the outbox; call inside the
    transaction that sent it. Returns the row id; None when this occasion's invitation exists
    already, or the reviewer has no valid address (logged; the batch stays sent)."""
    call: Call = batch.call
    reviewer: Reviewer = batch.reviewer_pool_entry.reviewer
    context = {
        "call_name": call.name,
        "proposals": invitation_proposals(batch, call.proposal_disclosure),
        "manager_notes": batch.manager_notes,
        "deadline": batch.expires_at,
        "link": response_link(batch),
    }
    try:
        return queue_email(
            NotificationKind.INVITATION,
            recipient=reviewer.email,
            recipient_name=reviewer.name,
            template="invitation",
            context=context,
            dedupe_key=invitation_dedupe_key(batch),
        )
    except InvalidRecipientError:
        logger.warning("reviewer %s has no valid e-mail address; not invited", reviewer.public_id)
        return None


def invitation_proposals(batch: AssignmentBatch, disclosure: Disclosure) -> list[dict[str, Any]]:
    """The proposals of the batch as the invitation shows them, in item order."""
    items = (
        AssignmentItem.select(AssignmentItem, Proposal)
        .join(Proposal)
        .where(AssignmentItem.batch == batch.id)
        .order_by(AssignmentItem.id)
    )
    return [disclosed_proposal(item, disclosure) for item in items]


def disclosed_proposal(item: AssignmentItem, disclosure: Disclosure) -> dict[str, Any]:
    """What the reviewer may see of the item's proposal (the e-mail and the response page)."""
    proposal: Proposal = item.proposal
    blocked = item.status == ItemStatus.COI_BLOCKED
    full = disclosure == Disclosure.FULL_DETAILS and not blocked
    return {
        "title": proposal.name,
        "coi_blocked": blocked,
        "summary": proposal.summary if disclosure in SUMMARY_LEVELS and not blocked else "",
        "keywords": list(proposal.keywords or []) if full else [],
        "organization": proposal.organization if full else "",
    }
