"""A reviewer's own reviews, as the `/me` page lists them (where review e-mails link to)."""

from __future__ import annotations

from store import Call, Proposal, Review, Reviewer, User
from store.enums import ReviewState

SHOWN_STATES = (ReviewState.IN_REVIEW, ReviewState.SUBMITTED)


def own_reviews(actor: User) -> list[Review]:
    """The reviews held by `actor`'s reviewer profiles, in review or submitted, with their
    proposal and call read; the nearest deadline first."""
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
