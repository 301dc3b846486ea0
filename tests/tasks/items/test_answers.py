"""The reviewer's answers to an assignment item: accept and decline (tasks/items/answers.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import pytest
from peewee import Database

from api.serializers.answers import accepted_out, declined_out
from store import (
    AssignmentBatch,
    AssignmentItem,
    Proposal,
    Review,
    write_transaction,
)
from store.enums import BatchStatus, CoiStatus, ItemStatus, ReviewState
from tasks.errors import (
    MSG_ACCEPT_EXPIRED,
    MSG_ACCEPT_NOT_PENDING,
    MSG_ACCEPT_WITH_COI,
    MSG_ACCEPTED,
    MSG_DECLINE_EXPIRED,
    MSG_DECLINE_NOT_PENDING,
    MSG_DECLINED,
    Forbidden,
    NotFound,
    ReviewqError,
)
from tasks.items.answers import accept_item, decline_item
from tests.builders import (
    DEADLINE,
    NOW,
    add_item,
    fresh,
    fresh_batch,
    invite,
    refusal,
    run_at_once,
)
from tests.factories import (
    make_conflict,
    make_reviewer,
    make_user,
)

# --- accept --------------------------------------------------------------------------------


def test_accept_creates_an_in_review_review_for_the_batch_reviewer_and_links_it(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)

    result = accept_item(inv.reviewer_user, str(item.uuid), now=NOW)

    answer = accepted_out(result).model_dump(mode="json")
    review = Review.get(Review.uuid == answer["review_uuid"])
    assert answer == {"detail": MSG_ACCEPTED, "review_uuid": str(review.uuid)}
    assert (review.reviewer_id, review.proposal_id) == (inv.reviewer.id, item.proposal_id)
    assert (review.state, review.assigned_at) == (ReviewState.IN_REVIEW, NOW)
    after = fresh(item)
    assert (after.status, after.review_id, after.responded_at) == (
        ItemStatus.ACCEPTED,
        review.id,
        NOW,
    )
    assert result.notification_ids == []


def test_decline_records_the_reason_and_answers_a_null_review(db: Database) -> None:
    inv = invite()
    item = add_item(inv)

    result = decline_item(inv.reviewer_user, str(item.uuid), reason="Too busy", now=NOW)

    assert declined_out(result).model_dump(mode="json") == {
        "detail": MSG_DECLINED,
        "review_uuid": None,
    }
    after = fresh(item)
    assert (after.status, after.decline_reason, after.responded_at) == (
        ItemStatus.DECLINED,
        "Too busy",
        NOW,
    )
    assert Review.select().count() == 0


def test_batch_becomes_responded_when_its_last_pending_item_is_answered(db: Database) -> None:
    inv = invite()
    first, second = add_item(inv), add_item(inv)

    accept_item(inv.reviewer_user, str(first.uuid), now=NOW)
    assert fresh_batch(inv.batch).status == BatchStatus.SENT

    later = NOW + timedelta(hours=1)
    decline_item(inv.reviewer_user, str(second.uuid), now=later)
    batch = fresh_batch(inv.batch)
    assert (batch.status, batch.responded_at) == (BatchStatus.RESPONDED, later)


def test_a_coi_blocked_item_does_not_keep_its_batch_from_being_responded(db: Database) -> None:
    inv = invite()
    item = add_item(inv)
    add_item(inv, status=ItemStatus.COI_BLOCKED, has_coi=True)

    accept_item(inv.reviewer_user, str(item.uuid), now=NOW)

    assert fresh_batch(inv.batch).status == BatchStatus.RESPONDED


@pytest.mark.parametrize(
    "status",
    [ItemStatus.ACCEPTED, ItemStatus.DECLINED, ItemStatus.REASSIGNED, ItemStatus.COI_BLOCKED],
)
def test_only_a_pending_item_can_be_accepted_or_declined(db: Database, status: ItemStatus) -> None:
    inv = invite()
    item = add_item(inv, status=status)

    assert refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=NOW)) == (
        MSG_ACCEPT_NOT_PENDING
    )
    assert refusal(lambda: decline_item(inv.reviewer_user, str(item.uuid), now=NOW)) == (
        MSG_DECLINE_NOT_PENDING
    )
    assert fresh(item).status == status
    assert Review.select().count() == 0


def test_a_second_accept_of_one_item_is_refused_and_creates_no_second_review(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)
    accept_item(inv.reviewer_user, str(item.uuid), now=NOW)

    message = refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=NOW))

    assert message == MSG_ACCEPT_NOT_PENDING
    assert Review.select().count() == 1


def test_answers_after_the_deadline_are_refused_even_before_the_scheduler_expires_the_batch(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)
    late = DEADLINE + timedelta(seconds=1)

    assert refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=late)) == (
        MSG_ACCEPT_EXPIRED
    )
    assert refusal(lambda: decline_item(inv.reviewer_user, str(item.uuid), now=late)) == (
        MSG_DECLINE_EXPIRED
    )
    assert fresh(item).status == ItemStatus.PENDING


def test_an_accept_at_the_very_deadline_is_refused_as_the_scheduler_expires_then(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)

    message = refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=DEADLINE))

    assert message == MSG_ACCEPT_EXPIRED
    just_before = DEADLINE - timedelta(microseconds=1)
    accept_item(inv.reviewer_user, str(item.uuid), now=just_before)
    assert fresh(item).status == ItemStatus.ACCEPTED


def test_answers_in_an_expired_batch_are_refused_as_expired(db: Database) -> None:
    inv = invite(status=BatchStatus.EXPIRED)
    item = add_item(inv, status=ItemStatus.EXPIRED)

    assert refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=NOW)) == (
        MSG_ACCEPT_EXPIRED
    )
    assert refusal(lambda: decline_item(inv.reviewer_user, str(item.uuid), now=NOW)) == (
        MSG_DECLINE_EXPIRED
    )


def test_accepting_with_an_unresolved_conflict_is_refused_but_declining_is_not(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)
    make_conflict(inv.call, inv.reviewer, Proposal.get_by_id(item.proposal_id))

    message = refusal(lambda: accept_item(inv.reviewer_user, str(item.uuid), now=NOW))

    assert message == MSG_ACCEPT_WITH_COI
    assert Review.select().count() == 0
    decline_item(inv.reviewer_user, str(item.uuid), now=NOW)
    assert fresh(item).status == ItemStatus.DECLINED


def test_a_dismissed_conflict_does_not_stop_an_accept(db: Database) -> None:
    inv = invite()
    item = add_item(inv)
    proposal = Proposal.get_by_id(item.proposal_id)
    make_conflict(inv.call, inv.reviewer, proposal, status=CoiStatus.DISMISSED)

    accept_item(inv.reviewer_user, str(item.uuid), now=NOW)

    assert fresh(item).status == ItemStatus.ACCEPTED


def test_an_item_a_manager_force_unblocked_can_be_accepted(db: Database) -> None:
    inv = invite()
    item = add_item(inv, has_coi=True, override_reason="ok", override_at=NOW)
    make_conflict(inv.call, inv.reviewer, Proposal.get_by_id(item.proposal_id))

    accept_item(inv.reviewer_user, str(item.uuid), now=NOW)

    assert fresh(item).status == ItemStatus.ACCEPTED


# --- permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_a_manager_answering_for_the_reviewer_is_forbidden_and_nothing_changes(
    db: Database, who: str
) -> None:
    inv = invite()
    item = add_item(inv)
    actor = inv.manager if who == "manager" else make_user(is_staff=True)

    with pytest.raises(Forbidden):
        accept_item(actor, str(item.uuid), now=NOW)
    with pytest.raises(Forbidden):
        decline_item(actor, str(item.uuid), now=NOW)

    assert fresh(item).status == ItemStatus.PENDING
    assert fresh_batch(inv.batch).status == BatchStatus.SENT
    assert Review.select().count() == 0


def test_another_reviewer_does_not_even_see_the_item(db: Database) -> None:
    inv = invite()
    item = add_item(inv)
    stranger = make_user()
    make_reviewer(user=stranger)

    with pytest.raises(NotFound):
        accept_item(stranger, str(item.uuid), now=NOW)
    assert fresh(item).status == ItemStatus.PENDING


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.CANCELLED])
def test_the_reviewer_cannot_answer_an_item_of_a_batch_they_cannot_see(
    db: Database, status: BatchStatus
) -> None:
    inv = invite(status=status)
    item = add_item(inv)

    with pytest.raises(NotFound):
        accept_item(inv.reviewer_user, str(item.uuid), now=NOW)
    with pytest.raises(NotFound):
        decline_item(inv.reviewer_user, str(item.uuid), now=NOW)


@pytest.mark.parametrize("token", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_item_is_not_found(db: Database, token: str) -> None:
    inv = invite()
    with pytest.raises(NotFound):
        accept_item(inv.reviewer_user, token, now=NOW)


# --- races (threads, each with its own connection) -----------------------------------------


def test_two_concurrent_accepts_of_one_item_make_exactly_one_review(db: Database) -> None:
    for _ in range(4):
        inv = invite()
        item = add_item(inv)
        accept = partial(accept_item, inv.reviewer_user, str(item.uuid), now=NOW)

        outcomes = run_at_once(accept, accept)

        refused = [o for o in outcomes if isinstance(o, ReviewqError)]
        assert [r.message for r in refused] == [MSG_ACCEPT_NOT_PENDING]
        reviews = Review.select().where(Review.proposal == item.proposal_id)
        assert reviews.count() == 1
        assert fresh(item).review_id == reviews.get().id


def test_an_accept_and_a_decline_of_one_item_at_once_leave_one_answer(db: Database) -> None:
    inv = invite()
    item = add_item(inv)

    outcomes = run_at_once(
        lambda: accept_item(inv.reviewer_user, str(item.uuid), now=NOW),
        lambda: decline_item(inv.reviewer_user, str(item.uuid), now=NOW),
    )

    accepted, declined = (not isinstance(o, ReviewqError) for o in outcomes)
    assert accepted != declined
    expected = ItemStatus.ACCEPTED if accepted else ItemStatus.DECLINED
    assert fresh(item).status == expected
    assert Review.select().count() == (1 if accepted else 0)


def expire_batch(batch_id: int, now: datetime) -> int:
    """What the scheduler's expiry does to one batch, in the lock order (batch, then items)."""
    with write_transaction():
        changed = int(
            AssignmentBatch.update(status=BatchStatus.EXPIRED)
            .where(
                AssignmentBatch.id == batch_id,
                AssignmentBatch.status == BatchStatus.SENT,
                AssignmentBatch.expires_at < now,
            )
            .execute()
        )
        AssignmentItem.update(status=ItemStatus.EXPIRED).where(
            AssignmentItem.batch == batch_id, AssignmentItem.status == ItemStatus.PENDING
        ).execute()
    return changed


def scheduler_expiry(batch_id: int, now: datetime) -> object:
    """The scheduler's own expiry job (every overdue batch, one set-based statement)."""
    from tasks.batches.expiry import expire_overdue_batches

    del batch_id
    return expire_overdue_batches(now)


@pytest.mark.parametrize("expire", [expire_batch, scheduler_expiry], ids=["update", "scheduler"])
def test_an_accept_racing_the_expiry_of_its_batch_either_wins_or_is_refused_as_expired(
    db: Database, expire: Callable[[int, datetime], object]
) -> None:
    for _ in range(4):
        inv = invite()
        item, other = add_item(inv), add_item(inv)
        just_before, just_after = DEADLINE - timedelta(seconds=1), DEADLINE + timedelta(seconds=1)

        accepted, _ = run_at_once(
            partial(accept_item, inv.reviewer_user, str(item.uuid), now=just_before),
            partial(expire, inv.batch.id, just_after),
        )

        assert fresh_batch(inv.batch).status == BatchStatus.EXPIRED
        assert fresh(other).status == ItemStatus.EXPIRED
        reviews = Review.select().where(Review.proposal == item.proposal_id).count()
        if isinstance(accepted, ReviewqError):
            assert accepted.message == MSG_ACCEPT_EXPIRED
            assert (fresh(item).status, reviews) == (ItemStatus.EXPIRED, 0)
        else:
            assert (fresh(item).status, reviews) == (ItemStatus.ACCEPTED, 1)
