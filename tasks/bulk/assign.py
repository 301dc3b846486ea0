"""Bulk review assignment (seeds/004): the use case behind `POST /v1/reviews/assign`.

A review that is not `unassigned` is never moved: its entry fails with an error naming who
holds it. Priority and deadline overrides apply to the reviews this request assigns.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from matching.bulk_strategies import (
    BulkOutcome,
    BulkReviewer,
    BulkTarget,
    Ineligibility,
    assign_expertise_based,
    assign_load_balanced,
    assign_round_robin,
    assign_specific,
)
from store import Review, Reviewer, RoundRobinCursor
from store.calls import Proposal
from store.clock import to_naive_utc
from store.enums import ASSIGNABLE_PROPOSAL_STATES, ReviewState
from store.locks import locked
from store.lookups import resolve_ids
from store.workload import workloads
from tasks.bulk.body import (
    AssignReviewsBody,
    ExpertiseBasedStrategy,
    RoundRobinStrategy,
    SpecificStrategy,
    Strategy,
    parse_assign_request,
)
from tasks.eligibility import affinity_scores, blocking_conflicts, held_proposals
from tasks.errors import (
    ReviewersNotFound,
    ReviewsNotFound,
    proposal_not_reviewable,
    review_already_assigned,
    review_not_assignable,
)
from tasks.mail.outbox import AssignedReview, InvalidRecipientError, queue_review_assigned
from tasks.results import BulkAssigned

logger = logging.getLogger(__name__)


@dataclass
class _Plan:
    tokens: list[str]
    reviews: list[Review]
    reviewers: list[Reviewer]
    labels: list[str]


def assign_reviews(raw: Any, *, request_uuid: UUID, now: datetime) -> BulkAssigned:
    """Assign the request's reviews by its strategy; call inside `write_transaction`.

    Guarantees: all or nothing; reviews and reviewers are locked before capacity is read, so
    concurrent requests never take a reviewer above maxPerReviewer; one e-mail per reviewer.
    Raises a ReviewqError (nothing written) for invalid input or unknown ids.
    """
    body, strategy = parse_assign_request(raw)
    plan = _lock_participants(body, strategy)
    current = workloads([r.id for r in plan.reviewers])
    assignable, early_failures = _split_assignable(plan)
    bulk_reviewers = [
        BulkReviewer(label, current[r.id], strategy.maxPerReviewer)
        for r, label in zip(plan.reviewers, plan.labels, strict=True)
    ]
    targets = _targets(plan, assignable)
    outcome = _run_strategy(strategy, plan, assignable, targets, bulk_reviewers)
    chosen = {assignable[t]: plan.reviewers[r] for t, r in outcome.assigned.items()}
    _write_assignments(body, plan, chosen, now)
    ids = _notify(body, plan, chosen, request_uuid) if body.notifyReviewers else []
    failures = early_failures | {assignable[t]: why for t, why in outcome.failures.items()}
    return BulkAssigned(_response(plan, chosen, failures, current), notification_ids=ids)


def _lock_participants(body: AssignReviewsBody, strategy: Strategy) -> _Plan:
    found_reviews, missing = resolve_ids(Review, body.reviewIds)
    if missing:
        raise ReviewsNotFound(missing)
    found_reviewers, missing = resolve_ids(Reviewer, strategy.reviewer_ids)
    if missing:
        raise ReviewersNotFound(missing)
    # Reviews before reviewers, each in id order: every writer locks in this order.
    review_ids = [found_reviews[t].id for t in body.reviewIds]
    fresh_reviews = {
        r.id: r
        for r in locked(Review.select().where(Review.id.in_(review_ids)).order_by(Review.id))
    }
    reviewer_ids = [found_reviewers[t].id for t in strategy.reviewer_ids]
    fresh_reviewers = {
        r.id: r
        for r in locked(
            Reviewer.select().where(Reviewer.id.in_(reviewer_ids)).order_by(Reviewer.id)
        )
    }
    return _Plan(
        tokens=list(body.reviewIds),
        reviews=[fresh_reviews[i] for i in review_ids],
        reviewers=[fresh_reviewers[i] for i in reviewer_ids],
        labels=list(strategy.reviewer_ids),
    )


def _split_assignable(plan: _Plan) -> tuple[list[int], dict[int, str]]:
    """Indexes of reviews that may be assigned, and why the others may not."""
    proposal_states = dict(
        Proposal.select(Proposal.id, Proposal.state)
        .where(Proposal.id.in_([r.proposal_id for r in plan.reviews]))
        .tuples()
    )
    holders = {
        r.id: r.public_id
        for r in Reviewer.select().where(
            Reviewer.id.in_([r.reviewer_id for r in plan.reviews if r.reviewer_id is not None])
        )
    }
    assignable, failures = [], {}
    for i, review in enumerate(plan.reviews):
        state = proposal_states[review.proposal_id]
        if review.state != ReviewState.UNASSIGNED:
            holder = holders.get(review.reviewer_id)
            failures[i] = (
                review_already_assigned(holder, review.state.value)
                if holder
                else review_not_assignable(review.state.value)
            )
        elif state not in ASSIGNABLE_PROPOSAL_STATES:
            failures[i] = proposal_not_reviewable(state.value)
        else:
            assignable.append(i)
    return assignable, failures


def _targets(plan: _Plan, assignable: Sequence[int]) -> list[BulkTarget]:
    reviewer_ids = [r.id for r in plan.reviewers]
    proposal_ids = {plan.reviews[i].proposal_id for i in assignable}
    if not assignable:
        return []
    conflicts = blocking_conflicts(reviewer_ids, proposal_ids)
    held = held_proposals(reviewer_ids, proposal_ids)
    targets = []
    for i in assignable:
        proposal = plan.reviews[i].proposal_id
        ineligible: dict[int, Ineligibility] = {}
        for index, reviewer in enumerate(plan.reviewers):
            if (reviewer.id, proposal) in conflicts:
                ineligible[index] = Ineligibility.CONFLICT
            elif (reviewer.id, proposal) in held:
                ineligible[index] = Ineligibility.SAME_PROPOSAL
            elif not reviewer.available_for_reviews:
                ineligible[index] = Ineligibility.UNAVAILABLE
        targets.append(BulkTarget(proposal, ineligible))
    return targets


def _run_strategy(
    strategy: Strategy,
    plan: _Plan,
    assignable: Sequence[int],
    targets: list[BulkTarget],
    reviewers: list[BulkReviewer],
) -> BulkOutcome:
    if isinstance(strategy, SpecificStrategy):
        return assign_specific(targets, reviewers)
    if isinstance(strategy, RoundRobinStrategy):
        cursor = _round_robin_cursor(plan.reviewers)
        outcome = assign_round_robin(targets, reviewers, cursor.position)
        RoundRobinCursor.update(position=outcome.next_position).where(
            RoundRobinCursor.id == cursor.id
        ).execute()
        return outcome
    if isinstance(strategy, ExpertiseBasedStrategy):
        known = affinity_scores(
            {plan.reviews[i].proposal_id for i in assignable},
            reviewer_ids=[r.id for r in plan.reviewers],
        )
        scores = {
            (t, r): known[(reviewer.id, targets[t].proposal)]
            for t in range(len(targets))
            for r, reviewer in enumerate(plan.reviewers)
            if (reviewer.id, targets[t].proposal) in known
        }
        return assign_expertise_based(
            targets, reviewers, scores, consider_workload=strategy.considerWorkload
        )
    return assign_load_balanced(targets, reviewers)


def _round_robin_cursor(reviewers: Sequence[Reviewer]) -> RoundRobinCursor:
    """The rotation of this exact pool (same reviewers, same order), locked."""
    key = hashlib.sha256("\n".join(str(r.uuid) for r in reviewers).encode()).hexdigest()
    RoundRobinCursor.insert(pool_key=key, position=0).on_conflict_ignore().execute()
    return locked(RoundRobinCursor.select().where(RoundRobinCursor.pool_key == key)).get()


def _write_assignments(
    body: AssignReviewsBody, plan: _Plan, chosen: dict[int, Reviewer], now: datetime
) -> None:
    changes: dict[str, Any] = {"state": ReviewState.IN_REVIEW, "assigned_at": now}
    if body.priority is not None:
        changes["priority"] = body.priority
    if body.deadline is not None:
        changes["deadline"] = to_naive_utc(body.deadline)
    by_reviewer: dict[int, list[int]] = defaultdict(list)
    for index, reviewer in chosen.items():
        by_reviewer[reviewer.id].append(index)
    for reviewer_id, indexes in by_reviewer.items():
        review_ids = [plan.reviews[i].id for i in indexes]
        Review.update(reviewer=reviewer_id, **changes).where(Review.id.in_(review_ids)).execute()


def _notify(
    body: AssignReviewsBody, plan: _Plan, chosen: dict[int, Reviewer], request_uuid: UUID
) -> list[int]:
    """One e-mail per reviewer given work, listing all of their reviews from this request."""
    given: dict[int, list[int]] = defaultdict(list)
    for index, reviewer in chosen.items():
        given[reviewer.id].append(index)
    reviewers = {r.id: r for r in plan.reviewers}
    titles = dict(
        Proposal.select(Proposal.id, Proposal.name)
        .where(Proposal.id.in_([plan.reviews[i].proposal_id for i in chosen]))
        .tuples()
    )
    deadline = to_naive_utc(body.deadline) if body.deadline else None
    ids = []
    for reviewer_id, indexes in given.items():
        reviewer = reviewers[reviewer_id]
        items = [
            AssignedReview(
                review_id=plan.tokens[i],
                proposal_title=titles[plan.reviews[i].proposal_id],
                priority=(body.priority or plan.reviews[i].priority).value,
                deadline=deadline or plan.reviews[i].deadline,
            )
            for i in sorted(indexes)
        ]
        try:
            new_id = queue_review_assigned(
                request_id=str(request_uuid),
                reviewer_id=str(reviewer.uuid),
                recipient=reviewer.email,
                recipient_name=reviewer.name,
                reviews=items,
            )
        except InvalidRecipientError:
            # The assignment stands; only the e-mail cannot be written. The loader validates
            # addresses, so this takes a reviewer edited by hand.
            logger.warning(
                "reviewer %s has no valid e-mail address; not notified", reviewer.public_id
            )
            continue
        if new_id is not None:
            ids.append(new_id)
    return ids


def _response(
    plan: _Plan,
    chosen: dict[int, Reviewer],
    failures: dict[int, str],
    before: dict[int, int],
) -> dict[str, Any]:
    label_of = {r.id: label for r, label in zip(plan.reviewers, plan.labels, strict=True)}
    assignments: list[dict[str, Any]] = []
    for i, token in enumerate(plan.tokens):
        if i in chosen:
            assignments.append(
                {"reviewId": token, "assignedTo": label_of[chosen[i].id], "status": "success"}
            )
        else:
            assignments.append(
                {"reviewId": token, "assignedTo": None, "status": "failed", "error": failures[i]}
            )
    counts: dict[int, int] = defaultdict(int)
    for reviewer in chosen.values():
        counts[reviewer.id] += 1
    summary = [
        {
            "userId": label_of[r.id],
            "assignedCount": counts[r.id],
            "totalWorkload": before[r.id] + counts[r.id],
        }
        for r in plan.reviewers
        if counts[r.id]
    ]
    return {
        "assigned": len(chosen),
        "failed": len(plan.tokens) - len(chosen),
        "assignments": assignments,
        "summary": summary,
    }
