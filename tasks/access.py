"""Who may see and do what (domain.md, Permissions). Every use case of the batch workflow takes
the acting `User` and asks here; the CLI acts as a staff user, the HTTP API as the token's user.

- Staff: everything. A call's managers: everything on that call.
- A reviewer: sees their own batches that are sent, responded or expired (draft and cancelled
  are 404 to them) and answers only their own items; a manager action is 403 to them.
- Anyone else: 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peewee import Expression

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    CallManager,
    ConflictOfInterest,
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


# --- the records behind the hyperlinks (calls, proposals, reviews, pool entries, conflicts,
# users): each is seen by whoever may see a batch that links to it, and by the call's managers


def own_reviewer_ids(user: User) -> Any:
    """A subquery: the ids of `user`'s reviewer profiles."""
    return Reviewer.select(Reviewer.id).where(Reviewer.user == user.id)


def _own_visible_batches(user: User) -> Any:
    """A subquery: the ids of the batches addressed to `user` that a reviewer sees."""
    return (
        AssignmentBatch.select(AssignmentBatch.id)
        .join(ReviewerPoolEntry, on=(AssignmentBatch.reviewer_pool_entry == ReviewerPoolEntry.id))
        .where(
            ReviewerPoolEntry.reviewer.in_(own_reviewer_ids(user)),
            AssignmentBatch.status.in_(list(REVIEWER_VISIBLE_BATCHES)),
        )
    )


def _managed(user: User, column: Any) -> Expression:
    """`column` (a call foreign key) names a call `user` manages."""
    return column.in_(CallManager.select(CallManager.call).where(CallManager.user == user.id))


def visible_calls_condition(user: User) -> Expression | None:
    """The calls `user` may see: those they manage, and those whose pool holds them; None for
    staff (every call)."""
    if user.is_staff:
        return None
    in_pool = ReviewerPoolEntry.select(ReviewerPoolEntry.call).where(
        ReviewerPoolEntry.reviewer.in_(own_reviewer_ids(user))
    )
    return _managed(user, Call.id) | Call.id.in_(in_pool)


def visible_proposals_condition(user: User) -> Expression | None:
    """The proposals `user` may see: those of the calls they manage, and those their own
    visible batches invite them to; None for staff."""
    if user.is_staff:
        return None
    invited = AssignmentItem.select(AssignmentItem.proposal).where(
        AssignmentItem.batch.in_(_own_visible_batches(user))
    )
    return _managed(user, Proposal.call) | Proposal.id.in_(invited)


def visible_reviews_condition(user: User) -> Expression | None:
    """A WHERE condition on Review joined to its Proposal: the reviews of the calls `user`
    manages, and their own; None for staff."""
    if user.is_staff:
        return None
    return _managed(user, Proposal.call) | Review.reviewer.in_(own_reviewer_ids(user))


def visible_pool_entries_condition(user: User) -> Expression | None:
    """The pool entries of the calls `user` manages, and their own invitations; None for staff."""
    if user.is_staff:
        return None
    own = ReviewerPoolEntry.reviewer.in_(own_reviewer_ids(user))
    return _managed(user, ReviewerPoolEntry.call) | own


def visible_conflicts_condition(user: User) -> Expression | None:
    """The conflicts of interest of the calls `user` manages (deciding them is theirs); None
    for staff."""
    if user.is_staff:
        return None
    return _managed(user, ConflictOfInterest.call)


def visible_users_condition(user: User) -> Expression | None:
    """The users `user` may see: themself, the creators of the batches they may see, the
    managers of the calls they may see, and the accounts of the reviewers in the pools of the
    calls they manage; None for staff."""
    if user.is_staff:
        return None
    batches = visible_batches_condition(user)
    creators = (
        AssignmentBatch.select(AssignmentBatch.created_by)
        .join(ReviewerPoolEntry, on=(AssignmentBatch.reviewer_pool_entry == ReviewerPoolEntry.id))
        .join(Reviewer, on=(ReviewerPoolEntry.reviewer == Reviewer.id))
        .where(batches)
    )
    calls = visible_calls_condition(user)
    managers = CallManager.select(CallManager.user).join(Call).where(calls)
    pools = (
        Reviewer.select(Reviewer.user)
        .join(ReviewerPoolEntry, on=(ReviewerPoolEntry.reviewer == Reviewer.id))
        .where(_managed(user, ReviewerPoolEntry.call))
    )
    return (User.id == user.id) | User.id.in_(creators) | User.id.in_(managers) | User.id.in_(pools)


def visible_reviewers_condition(user: User) -> Expression | None:
    """The reviewer profiles `user` may see: their own, and those in the pools of the calls
    they manage; None for staff."""
    if user.is_staff:
        return None
    pools = ReviewerPoolEntry.select(ReviewerPoolEntry.reviewer).where(
        _managed(user, ReviewerPoolEntry.call)
    )
    return (Reviewer.user == user.id) | Reviewer.id.in_(pools)
