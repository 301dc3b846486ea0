"""Who may see and do what (domain.md, Permissions). Every use case of the batch workflow takes
the acting `User` and asks here; the CLI acts as a staff user, the HTTP API as the token's user.

- Staff: everything. A call's managers: everything on that call.
- A reviewer: sees their own batches that are sent, responded or expired (draft and cancelled
  are 404 to them) and answers only their own items; a manager action is 403 to them.
- Anyone else: 404.
"""

from __future__ import annotations

from collections.abc import Sequence

from peewee import Expression

from store import (
    AssignmentBatch,
    Call,
    CallManager,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.lookups import resolve_id, resolve_ids
from tasks.errors import Forbidden, NotFound
from tasks.grants import BatchGrant
from tasks.rules import REVIEWER_VISIBLE_BATCHES


def managed_call_ids(user: User) -> set[int]:
    return {
        cid
        for (cid,) in CallManager.select(CallManager.call)
        .where(CallManager.user == user.id)
        .tuples()
    }


def is_manager_of(user: User, call_id: int) -> bool:
    """Staff, or one of the call's managers."""
    if user.is_staff:
        return True
    return (
        CallManager.select()
        .where(CallManager.user == user.id, CallManager.call == call_id)
        .exists()
    )


def is_reviewer_of(user: User, batch: AssignmentBatch) -> bool:
    """The batch's invitation is addressed to one of this user's reviewer profiles."""
    return (
        ReviewerPoolEntry.select()
        .join(Reviewer)
        .where(ReviewerPoolEntry.id == batch.reviewer_pool_entry_id, Reviewer.user == user.id)
        .exists()
    )


def visible_batches_condition(user: User) -> Expression | None:
    """A WHERE condition on AssignmentBatch (joined to its pool entry and reviewer) selecting
    what `user` may see; None for staff (everything)."""
    if user.is_staff:
        return None
    own = (Reviewer.user == user.id) & (AssignmentBatch.status.in_(list(REVIEWER_VISIBLE_BATCHES)))
    managed = managed_call_ids(user)
    if managed:
        return own | AssignmentBatch.call.in_(list(managed))
    return own


def can_see_batch(user: User, batch: AssignmentBatch) -> bool:
    if is_manager_of(user, batch.call_id):
        return True
    return batch.status in REVIEWER_VISIBLE_BATCHES and is_reviewer_of(user, batch)


def require_batch_visible(user: User, batch: AssignmentBatch) -> None:
    """NotFound unless `user` may see `batch`."""
    if not can_see_batch(user, batch):
        raise NotFound("assignment batch")


def require_manager(user: User, batch: AssignmentBatch) -> None:
    """A manager action: NotFound if the user cannot see the batch, Forbidden if they only may
    see it (its reviewer), nothing if they manage its call."""
    if is_manager_of(user, batch.call_id):
        return
    require_batch_visible(user, batch)
    raise Forbidden()


def require_reviewer(user: User | BatchGrant, batch: AssignmentBatch) -> None:
    """A reviewer action (accept, decline): only the batch's own reviewer. A manager who may
    see the batch gets Forbidden, anyone else NotFound. A response link's grant
    (tasks/links.py) acts for exactly its batch: any other batch is NotFound to it."""
    if isinstance(user, BatchGrant):
        if user.batch_id == batch.id and batch.status in REVIEWER_VISIBLE_BATCHES:
            return
        raise NotFound("assignment batch")
    if is_reviewer_of(user, batch) and batch.status in REVIEWER_VISIBLE_BATCHES:
        return
    require_batch_visible(user, batch)
    raise Forbidden()


def require_call_manager(user: User, call_token: str) -> Call:
    """A manager action on a call (uuid or external id): the call if `user` manages it;
    Forbidden for a reviewer of its pool (who may know it), NotFound for anyone else."""
    call = resolve_id(Call, str(call_token))
    if call is None:
        raise NotFound("call")
    if is_manager_of(user, call.id):
        return call
    in_pool = (
        ReviewerPoolEntry.select()
        .join(Reviewer)
        .where(ReviewerPoolEntry.call == call.id, Reviewer.user == user.id)
        .exists()
    )
    if in_pool:
        raise Forbidden()
    raise NotFound("call")


def reviews_not_managed(user: User, review_tokens: Sequence[str]) -> list[str]:
    """The tokens (uuid or external id) of existing reviews whose proposal is in a call `user`
    does not manage, in input order: what a bulk assign may not touch. Empty for staff;
    unknown tokens are left to the use case (REVIEWS_NOT_FOUND)."""
    if user.is_staff:
        return []
    found, _missing = resolve_ids(Review, list(review_tokens))
    managed = managed_call_ids(user)
    proposal_ids = list({review.proposal_id for review in found.values()})
    query = Proposal.select(Proposal.id, Proposal.call).where(Proposal.id.in_(proposal_ids))
    calls = dict(query.tuples()) if proposal_ids else {}
    return [t for t, review in found.items() if calls.get(review.proposal_id) not in managed]
