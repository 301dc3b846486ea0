"""The invitation to a call's reviewer pool (on adding a reviewer, and on resend), written to
the outbox in the transaction that invites. Each send is its own occasion: a resend is a new
e-mail, a retried transaction of the same send is not."""

from __future__ import annotations

import logging
from datetime import datetime

from store import Call, Reviewer, ReviewerPoolEntry
from store.enums import NotificationKind
from tasks.mail.outbox import (
    InvalidRecipientError,
    notification_dedupe_key,
    public_link,
    queue_email,
)

logger = logging.getLogger(__name__)


def queue_pool_invitation(
    entry: ReviewerPoolEntry, sent_at: datetime, message: str = ""
) -> int | None:
    """Write the pool invitation of `entry` (sent at `sent_at`) to the outbox; the row id, or
    None when this occasion's e-mail exists already or the reviewer has no valid address."""
    call: Call = entry.call
    reviewer: Reviewer = entry.reviewer
    occasion = sent_at.isoformat(timespec="microseconds")
    try:
        return queue_email(
            NotificationKind.POOL_INVITATION,
            recipient=reviewer.email,
            recipient_name=reviewer.name,
            template="pool_invitation",
            context={
                "call_name": call.name,
                "max_assignments": entry.max_assignments,
                "message": message,
                # the API resource whose accept/ and decline/ answer it
                "link": public_link("me") + "#pool-invitations",  # sign in, then answer there
            },
            dedupe_key=notification_dedupe_key(
                NotificationKind.POOL_INVITATION, entry.uuid, occasion
            ),
        )
    except InvalidRecipientError:
        logger.warning("reviewer %s has no valid e-mail address; not invited", reviewer.public_id)
        return None
