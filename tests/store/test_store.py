"""The store on SQLite and PostgreSQL: migrations, lookups, constraints, workload."""

from __future__ import annotations

import pytest
from peewee import Database, IntegrityError

from store import AssignmentBatch, AssignmentItem, Review, Reviewer
from store.enums import BatchStatus, ItemStatus, ReviewState
from store.lookups import resolve_ids
from store.migrations import migrate, schema_version
from store.workload import workloads
from tests.factories import (
    give_in_review,
    make_call,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
)


def test_migrate_twice_applies_nothing_the_second_time(db: Database) -> None:
    assert migrate() == []
    assert schema_version() >= 1


def test_reviews_are_found_by_uuid_or_external_id_and_missing_ones_are_named(db: Database) -> None:
    proposal = make_proposal(make_call())
    by_ext = make_review(proposal, external_id="rev_1")
    by_uuid = make_review(proposal)
    found, missing = resolve_ids(Review, ["rev_1", str(by_uuid.uuid), "rev_404", "not-a-uuid"])
    assert found["rev_1"].id == by_ext.id
    assert found[str(by_uuid.uuid)].id == by_uuid.id
    assert missing == ["rev_404", "not-a-uuid"]


def test_external_ids_are_unique_per_kind(db: Database) -> None:
    make_reviewer("user_001")
    with pytest.raises(IntegrityError), db.atomic():
        make_reviewer("user_001")


def test_an_item_appears_once_per_batch_and_proposal(db: Database) -> None:
    call = make_call()
    proposal = make_proposal(call)
    entry = make_pool_entry(call, make_reviewer())
    batch = AssignmentBatch.create(call=call, reviewer_pool_entry=entry)
    AssignmentItem.create(batch=batch, proposal=proposal)
    with pytest.raises(IntegrityError), db.atomic():
        AssignmentItem.create(batch=batch, proposal=proposal)


def test_workload_counts_open_items_and_reviews_in_review_only(db: Database) -> None:
    call, other_call = make_call(), make_call()
    proposal, other_proposal = make_proposal(call), make_proposal(other_call)
    busy, idle = make_reviewer(), make_reviewer()
    entry = make_pool_entry(call, busy)

    draft = AssignmentBatch.create(call=call, reviewer_pool_entry=entry, status=BatchStatus.DRAFT)
    AssignmentItem.create(batch=draft, proposal=proposal)  # counted
    AssignmentItem.create(batch=draft, proposal=make_proposal(call), status=ItemStatus.DECLINED)
    cancelled = AssignmentBatch.create(
        call=call, reviewer_pool_entry=entry, status=BatchStatus.CANCELLED
    )
    AssignmentItem.create(batch=cancelled, proposal=make_proposal(call))  # not counted
    sent = AssignmentBatch.create(call=call, reviewer_pool_entry=entry, status=BatchStatus.SENT)
    accepted_review = give_in_review(busy, proposal)[0]
    AssignmentItem.create(  # counted once, through its review
        batch=sent, proposal=make_proposal(call), status=ItemStatus.ACCEPTED, review=accepted_review
    )
    give_in_review(busy, other_proposal, 2)  # another call
    Review.create(proposal=proposal, reviewer=busy, state=ReviewState.SUBMITTED)

    assert workloads([busy.id, idle.id]) == {busy.id: 4, idle.id: 0}
    assert workloads([busy.id], call_id=call.id) == {busy.id: 2}
    assert workloads()[busy.id] == 4


def test_workload_of_many_reviewers_is_one_query(db: Database) -> None:
    proposal = make_proposal(make_call())
    reviewers = [make_reviewer() for _ in range(30)]
    for i, reviewer in enumerate(reviewers):
        give_in_review(reviewer, proposal, i % 4)
    executed: list[str] = []
    original = db.execute_sql

    def counting(sql: str, *args: object, **kwargs: object) -> object:
        executed.append(sql)
        return original(sql, *args, **kwargs)

    db.execute_sql = counting
    try:
        result = workloads([r.id for r in reviewers])
    finally:
        del db.execute_sql
    assert len(executed) == 1
    assert [result[r.id] for r in reviewers] == [i % 4 for i in range(30)]
    assert Reviewer.select().count() == 30
