"""Notices to a call's managers that they can act on: one e-mail per declined item.

(The expiry digest, a scheduler e-mail, is in tasks/mail/reminders.py; both link to the call's
page, tasks/links.py.) Written to the outbox inside the decline's transaction; the caller
delivers the ids after the commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection

from store import AssignmentItem, Call, CallManager, Proposal, Reviewer, User
from store.enums import NotificationKind
from tasks.links import call_page_link
from tasks.mail.outbox import InvalidRecipientError, notification_dedupe_key, queue_email

logger = logging.getLogger(__name__)


def call_managers(call_ids: Collection[int]) -> dict[int, list[User]]:
    """The managers of each of these calls, in the order they were made managers."""
    if not call_ids:
        return {}
    links = (
        CallManager.select(CallManager, User)
        .join(User)
        .where(CallManager.call.in_(list(call_ids)))
        .order_by(CallManager.id)
    )
    found: dict[int, list[User]] = defaultdict(list)
    for link in links:
        found[link.call_id].append(link.user)
    return dict(found)


def queue_decline_notices(
    item: AssignmentItem, call: Call, reviewer: Reviewer, reason: str
) -> list[int]:
    """One decline notice per manager of `call` about the declined `item`: the reviewer, the
    proposal, the reason and a link to the call's page. At most once per (item, manager).
    Call inside the decline's transaction; returns the outbox ids."""
    proposal = Proposal.get_by_id(item.proposal_id)
    context = {
        "call_name": call.name,
        "reviewer_name": reviewer.name,
        "proposal_title": proposal.name,
        "reason": reason,
        "auto_reassign": bool(call.auto_reassign_on_decline),
        "link": call_page_link(call),
    }
    ids: list[int] = []
    for manager in call_managers([call.id]).get(call.id, []):
        key = notification_dedupe_key(NotificationKind.DECLINE_NOTICE, item.uuid, manager.uuid)
        try:
            new_id = queue_email(
                NotificationKind.DECLINE_NOTICE,
                recipient=manager.email,
                recipient_name=manager.full_name or manager.username,
                template="decline_notice",
                context=context,
                dedupe_key=key,
            )
        except InvalidRecipientError:
            logger.warning("manager %s has no valid e-mail address; not told", manager.username)
            continue
        if new_id is not None:
            ids.append(new_id)
    return ids
