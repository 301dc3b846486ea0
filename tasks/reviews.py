"""Reading one review (`/api/proposal-reviews/{uuid}/`, what an accepted item's `review`
links to): the call's managers and staff see every review of the call, a reviewer their own;
anyone else gets NotFound. One reviewer profile (`/api/reviewer-profiles/{uuid}/`, what a
pool entry's and a conflict's `reviewer` link to). And a reviewer's own reviews (`/me`)."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.enums import ItemStatus, ReviewState
from store.lookups import resolve_id
from tasks.access import visible_reviewers_condition, visible_reviews_condition
from tasks.errors import NotFound


@dataclass(frozen=True)
class ReviewView:
    """A review with its proposal, call, reviewer profile and that profile's user."""

    review: Review
    proposal: Proposal
    call: Call
    reviewer: Reviewer | None
    reviewer_user: User | None


def get_review(actor: User, review_token: str) -> ReviewView:
    """The review (uuid or external id) `actor` may see; NotFound otherwise."""
    review = resolve_id(Review, str(review_token))
    if review is None:
        raise NotFound("review")
    condition = visible_reviews_condition(actor)
    query = Review.select().join(Proposal).where(Review.id == review.id)
    if condition is not None and not query.where(condition).exists():
        raise NotFound("review")
    proposal: Proposal = review.proposal
    reviewer: Reviewer | None = review.reviewer
    user: User | None = reviewer.user if reviewer is not None else None
    return ReviewView(review, proposal, proposal.call, reviewer, user)


@dataclass(frozen=True)
class ReviewerView:
    """A reviewer profile with its account and its record of answers (Waldur's stats)."""

    reviewer: Reviewer
    user: User | None
    reviews_completed: int
    items_declined: int
    items_expired: int


def get_reviewer(actor: User, reviewer_token: str) -> ReviewerView:
    """The reviewer profile (uuid or external id) `actor` may see: their own, or one in the
    pool of a call they manage (staff: any); NotFound otherwise."""
    reviewer = resolve_id(Reviewer, str(reviewer_token))
    if reviewer is None:
        raise NotFound("reviewer")
    condition = visible_reviewers_condition(actor)
    query = Reviewer.select().where(Reviewer.id == reviewer.id)
    if condition is not None and not query.where(condition).exists():
        raise NotFound("reviewer")
    completed = (
        Review.select()
        .where(Review.reviewer == reviewer.id, Review.state == ReviewState.SUBMITTED)
        .count()
    )
    answers = dict(
        AssignmentItem.select(AssignmentItem.status, fn.COUNT(AssignmentItem.id))
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(ReviewerPoolEntry.reviewer == reviewer.id)
        .group_by(AssignmentItem.status)
        .tuples()
    )
    user: User | None = reviewer.user
    return ReviewerView(
        reviewer,
        user,
        reviews_completed=int(completed),
        items_declined=int(answers.get(ItemStatus.DECLINED.value, 0)),
        items_expired=int(answers.get(ItemStatus.EXPIRED.value, 0)),
    )


SHOWN_STATES = (ReviewState.IN_REVIEW, ReviewState.SUBMITTED)


def own_reviews(actor: User) -> list[Review]:
    """A reviewer's own reviews, as the `/me` page lists them (where review e-mails link to):
    those held by `actor`'s reviewer profiles, in review or submitted, with their proposal and
    call read; the nearest deadline first."""
    query = (
        Review.select(Review, Proposal, Call)
        .join(Proposal)
        .join(Call)
        .switch(Review)
        .join(Reviewer)
        .where(Reviewer.user == actor.id, Review.state.in_(list(SHOWN_STATES)))
        .order_by(Review.deadline.asc(nulls="LAST"), Review.id)
    )
    return list(query)
