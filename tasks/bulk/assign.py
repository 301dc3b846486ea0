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

from peewee import JOIN, fn

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
from store.compiled import CompiledQuery, among, rows_of, slot
from store.enums import ASSIGNABLE_PROPOSAL_STATES, Priority, ProposalState, ReviewState
from store.locks import locked
from store.lookups import as_uuid, storable
from store.workload import workloads
from tasks.bulk.body import (
    AssignReviewsBody,
    ExpertiseBasedStrategy,
    RoundRobinStrategy,
    SpecificStrategy,
    Strategy,
    parse_assign_request,
)
from tasks.eligibility import affinity_scores, bulk_exclusions
from tasks.errors import (
    ReviewersNotFound,
    ReviewsNotFound,
    proposal_not_reviewable,
    review_already_assigned,
    review_not_assignable,
)
from tasks.mail.outbox import (
    AssignedReview,
    InvalidRecipientError,
    queue_emails,
    review_assigned_email,
)
from tasks.results import BulkAssigned

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Review:
    """A review of the request, as read under its lock (with its proposal and holder)."""

    id: int
    proposal_id: int
    state: ReviewState
    priority: Priority
    deadline: datetime | None
    proposal_state: ProposalState
    proposal_title: str
    holder: str | None  # the public id of the reviewer holding it


@dataclass(frozen=True)
class _Reviewer:
    id: int
    uuid: UUID
    public_id: str
    name: str
    email: str
    available_for_reviews: bool


@dataclass
class _Plan:
    tokens: list[str]
    reviews: list[_Review]
    reviewers: list[_Reviewer]
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


Holder = Reviewer.alias("holder")


def _reviews_query() -> Any:
    return (
        Review.select(
            Review.id,
            Review.uuid,
            Review.external_id,
            Review.proposal,
            Review.state,
            Review.priority,
            Review.deadline,
            Proposal.state,
            Proposal.name,
            Holder.external_id,
            Holder.uuid,
        )
        .join(Proposal)
        .switch(Review)
        .join(Holder, JOIN.LEFT_OUTER, on=(Review.reviewer == Holder.id))
        .where(among(Review.external_id, "external_ids") | among(Review.uuid, "uuids"))
        .order_by(Review.id)
    )


def _reviewers_query() -> Any:
    return Reviewer.select(
        Reviewer.id,
        Reviewer.uuid,
        Reviewer.external_id,
        Reviewer.name,
        Reviewer.email,
        Reviewer.available_for_reviews,
    ).where(among(Reviewer.external_id, "external_ids") | among(Reviewer.uuid, "uuids"))


#: Reviews before reviewers, each in id order: every writer locks in this order (store/locks).
_LOCK_REVIEWS = CompiledQuery(lambda: locked(_reviews_query(), of=Review))
_LOCK_REVIEWERS = CompiledQuery(lambda: locked(_reviewers_query().order_by(Reviewer.id)))


def _locked_rows(query: CompiledQuery, tokens: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """token -> row (its external id or its uuid), and the tokens no row has, in input order;
    the rows are locked, in id order. A token no record can carry (a NUL) is missing."""
    wanted = list(dict.fromkeys(tokens))
    uuids = {u: t for t in wanted if (u := as_uuid(t)) is not None}
    external = [t for t in wanted if storable(t)]
    found: dict[str, Any] = {}
    for row in query.tuples(external_ids=external, uuids=list(uuids)):
        row_uuid, external_id = row[1], row[2]
        if external_id is not None and external_id in wanted:
            found[external_id] = row
        if row_uuid in uuids:
            found[uuids[row_uuid]] = row
    return found, [t for t in wanted if t not in found]


def _lock_participants(body: AssignReviewsBody, strategy: Strategy) -> _Plan:
    found_reviews, missing = _locked_rows(_LOCK_REVIEWS, body.reviewIds)
    if missing:
        raise ReviewsNotFound(missing)
    found_reviewers, missing = _locked_rows(_LOCK_REVIEWERS, strategy.reviewer_ids)
    if missing:
        raise ReviewersNotFound(missing)
    reviews = []
    for token in body.reviewIds:
        (rid, _, _, proposal, state, priority, deadline, p_state, title, h_ext, h_uuid) = (
            found_reviews[token]
        )
        holder = h_ext or (str(h_uuid) if h_uuid is not None else None)
        reviews.append(_Review(rid, proposal, state, priority, deadline, p_state, title, holder))
    reviewers = []
    for token in strategy.reviewer_ids:
        rid, r_uuid, external_id, name, email, available = found_reviewers[token]
        reviewers.append(
            _Reviewer(rid, r_uuid, external_id or str(r_uuid), name, email, bool(available))
        )
    return _Plan(
        tokens=list(body.reviewIds),
        reviews=reviews,
        reviewers=reviewers,
        labels=list(strategy.reviewer_ids),
    )


def _split_assignable(plan: _Plan) -> tuple[list[int], dict[int, str]]:
    """Indexes of reviews that may be assigned, and why the others may not."""
    assignable, failures = [], {}
    for i, review in enumerate(plan.reviews):
        if review.state != ReviewState.UNASSIGNED:
            failures[i] = (
                review_already_assigned(review.holder, review.state.value)
                if review.holder
                else review_not_assignable(review.state.value)
            )
        elif review.proposal_state not in ASSIGNABLE_PROPOSAL_STATES:
            failures[i] = proposal_not_reviewable(review.proposal_state.value)
        else:
            assignable.append(i)
    return assignable, failures


def _targets(plan: _Plan, assignable: Sequence[int]) -> list[BulkTarget]:
    reviewer_ids = [r.id for r in plan.reviewers]
    proposal_ids = {plan.reviews[i].proposal_id for i in assignable}
    if not assignable:
        return []
    excluded = bulk_exclusions(reviewer_ids, proposal_ids)
    conflicts, held = excluded.conflicts, excluded.held
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


def _round_robin_cursor(reviewers: Sequence[_Reviewer]) -> RoundRobinCursor:
    """The rotation of this exact pool (same reviewers, same order), locked."""
    key = hashlib.sha256("\n".join(str(r.uuid) for r in reviewers).encode()).hexdigest()
    RoundRobinCursor.insert(pool_key=key, position=0).on_conflict_ignore().execute()
    return locked(RoundRobinCursor.select().where(RoundRobinCursor.pool_key == key)).get()


def _assign_query() -> Any:
    given = rows_of("given", {"review": "integer", "reviewer": "integer"})
    return (
        Review.update(
            reviewer=given.c.reviewer,
            state=ReviewState.IN_REVIEW,
            assigned_at=slot("now", Review.assigned_at),
            priority=fn.COALESCE(slot("priority"), Review.priority),
            deadline=fn.COALESCE(slot("deadline", Review.deadline), Review.deadline),
        )
        .from_(given)
        .where(Review.id == given.c.review)
    )


_ASSIGN = CompiledQuery(_assign_query)


def _write_assignments(
    body: AssignReviewsBody, plan: _Plan, chosen: dict[int, _Reviewer], now: datetime
) -> None:
    """Every review given, in one UPDATE of constant text (store/compiled.py)."""
    if not chosen:
        return
    _ASSIGN.execute(
        given=[(plan.reviews[index].id, reviewer.id) for index, reviewer in chosen.items()],
        now=now,
        priority=body.priority.value if body.priority is not None else None,
        deadline=to_naive_utc(body.deadline) if body.deadline is not None else None,
    )


def _notify(
    body: AssignReviewsBody, plan: _Plan, chosen: dict[int, _Reviewer], request_uuid: UUID
) -> list[int]:
    """One e-mail per reviewer given work, listing all of their reviews from this request."""
    given: dict[int, list[int]] = defaultdict(list)
    for index, reviewer in chosen.items():
        given[reviewer.id].append(index)
    reviewers = {r.id: r for r in plan.reviewers}
    deadline = to_naive_utc(body.deadline) if body.deadline else None
    emails = []
    for reviewer_id, indexes in given.items():
        reviewer = reviewers[reviewer_id]
        items = [
            AssignedReview(
                review_id=plan.tokens[i],
                proposal_title=plan.reviews[i].proposal_title,
                priority=(body.priority or plan.reviews[i].priority).value,
                deadline=deadline or plan.reviews[i].deadline,
            )
            for i in sorted(indexes)
        ]
        try:
            emails.append(
                review_assigned_email(
                    request_id=str(request_uuid),
                    reviewer_id=str(reviewer.uuid),
                    recipient=reviewer.email,
                    recipient_name=reviewer.name,
                    reviews=items,
                )
            )
        except InvalidRecipientError:
            # The assignment stands; only the e-mail cannot be written. The loader validates
            # addresses, so this takes a reviewer edited by hand.
            logger.warning(
                "reviewer %s has no valid e-mail address; not notified", reviewer.public_id
            )
    return [new_id for new_id in queue_emails(emails) if new_id is not None]


def _response(
    plan: _Plan,
    chosen: dict[int, _Reviewer],
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
