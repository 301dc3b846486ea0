"""load_data on SQLite and PostgreSQL: all or nothing, idempotent, every bad record named."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from peewee import Database

from store import (
    Affinity,
    Call,
    CallManager,
    ConflictOfInterest,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.enums import Algorithm, CoiStatus, InvitationStatus, Proficiency, ReviewState
from store.migrations import ALL_MODELS
from tasks.errors import DataFileError
from tasks.imports.load import load_data
from tasks.users import authenticate, create_user, hash_token
from tests.factories import every_row, good_document, make_call, make_proposal, make_reviewer

TOKEN = "t" * 43


def located(error: DataFileError) -> set[tuple[str, int | None, str]]:
    return {(e.array, e.index, e.field) for e in error.errors}


def test_a_good_file_loads_every_record_with_its_fields(db: Database) -> None:
    report = load_data(good_document())
    assert {a: c.created for a, c in report.counts.items()} == {
        "users": 1, "reviewers": 1, "calls": 1, "proposals": 1,
        "pool": 1, "conflicts": 1, "affinities": 1, "reviews": 1,
    }  # fmt: skip
    reviewer = Reviewer.get(Reviewer.external_id == "user_001")
    assert reviewer.expertise == [{"keyword": "graph theory", "proficiency": "expert"}]
    assert reviewer.user.username == "admin"
    call = Call.get(Call.external_id == "call_1")
    assert (call.reviewers_per_proposal, call.auto_reassign_on_decline) == (2, True)
    assert (call.assignment_expiration_days, call.algorithm) == (7, Algorithm.OPTIMAL)
    assert [link.user.username for link in call.manager_links] == ["admin"]
    assert Proposal.get().keywords == ["graph theory", "optimisation"]
    entry = ReviewerPoolEntry.get()
    assert (entry.call_id, entry.reviewer_id, entry.max_assignments) == (call.id, reviewer.id, 5)
    assert entry.invitation_status is InvitationStatus.ACCEPTED
    assert ConflictOfInterest.get().status is CoiStatus.PENDING
    assert Affinity.get().score == pytest.approx(0.82, abs=1e-6)
    review = Review.get(Review.external_id == "rev_123")
    assert review.deadline == datetime(2026, 12, 16, 17, 0)
    assert (review.reviewer, review.state) == (None, ReviewState.UNASSIGNED)


def test_loading_the_same_file_twice_changes_nothing(db: Database) -> None:
    from cli.demo.sample import sample_document

    document = sample_document(11, reviewers=20, proposals=30, reviews=60)
    first = load_data(document)
    before = every_row()
    again = load_data(document)
    assert every_row() == before
    assert again.created == again.updated == 0
    assert {a: c.unchanged for a, c in again.counts.items()} == {
        a: c.created for a, c in first.counts.items()
    }
    assert {a: c.created for a, c in first.counts.items()} == {
        a: len(records) for a, records in document.items()
    }


def test_a_changed_field_updates_that_record_only_and_left_out_fields_keep_their_value(
    db: Database,
) -> None:
    load_data(good_document())
    load_data({"reviewers": [{"external_id": "user_002", "name": "B", "email": "b@example.org"}]})
    report = load_data(
        {
            "reviewers": [
                {"external_id": "user_001", "name": "Ada L.", "email": "ada@example.org"},
                {"external_id": "user_002", "name": "B", "email": "b@example.org"},
            ]
        }
    )
    counts = report.counts["reviewers"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 1)
    ada = Reviewer.get(Reviewer.external_id == "user_001")
    assert ada.name == "Ada L."
    assert ada.organization == "Tartu"  # left out: kept
    assert ada.expertise[0]["proficiency"] == Proficiency.EXPERT.value


def test_one_bad_record_among_many_writes_nothing_and_every_bad_record_is_named(
    db: Database,
) -> None:
    document = good_document()
    document["reviews"] = [{"external_id": f"rev_{n:03d}", "proposal": "p_1"} for n in range(300)]
    document["reviews"][17]["priority"] = "asap"
    document["reviews"][250]["proposal"] = "p_404"
    document["pool"][0]["max_assignments"] = -1
    document["affinities"][0]["reviewer"] = "user_404"
    with pytest.raises(DataFileError) as raised:
        load_data(document)
    assert located(raised.value) == {
        ("reviews", 17, "priority"),
        ("reviews", 250, "proposal"),
        ("pool", 0, "max_assignments"),
        ("affinities", 0, "reviewer"),
    }
    assert all(model.select().count() == 0 for model in ALL_MODELS)


def test_dangling_references_are_named_with_the_unknown_id(db: Database) -> None:
    document = good_document()
    document["reviewers"][0]["user"] = "u_ghost"
    document["calls"][0]["managers"] = ["u_admin", "u_nobody"]
    document["reviews"][0].update(reviewer="user_999", state="in_review")
    with pytest.raises(DataFileError) as raised:
        load_data(document)
    messages = {str(e) for e in raised.value.errors}
    assert messages == {
        "reviewers[0].user: unknown user 'u_ghost'",
        "calls[0].managers.1: unknown user 'u_nobody'",
        "reviews[0].reviewer: unknown reviewer 'user_999'",
    }
    assert User.select().count() == 0


def test_one_pass_names_the_references_of_a_record_that_is_bad_for_another_reason(
    db: Database,
) -> None:
    document = good_document()
    document["pool"][0].update(max_assignments="5", reviewer="user_404")
    document["calls"][0].update(name="", managers=["u_admin", "u_nobody"])
    document["reviewers"][0]["email"] = "not-an-address"
    reviewer = document["reviewers"][0]["external_id"]
    document["affinities"][0]["reviewer"] = reviewer
    with pytest.raises(DataFileError) as raised:
        load_data(document)
    messages = {str(e) for e in raised.value.errors}
    assert "pool[0].reviewer: unknown reviewer 'user_404'" in messages
    assert "calls[0].managers.1: unknown user 'u_nobody'" in messages
    assert located(raised.value) == {
        ("pool", 0, "max_assignments"),
        ("pool", 0, "reviewer"),
        ("calls", 0, "name"),
        ("calls", 0, "managers.1"),
        ("reviewers", 0, "email"),
    }, "a reference to a record that is itself bad is not 'unknown'"


def test_references_to_rows_already_stored_resolve_by_external_id_or_uuid(db: Database) -> None:
    call = make_call(external_id="call_9")
    proposal = make_proposal(call, external_id="p_9")
    reviewer = make_reviewer()
    report = load_data(
        {
            "pool": [{"call": "call_9", "reviewer": str(reviewer.uuid)}],
            "affinities": [{"reviewer": str(reviewer.uuid), "proposal": "p_9", "score": 0.5}],
            "reviews": [{"external_id": "rev_9", "proposal": str(proposal.uuid)}],
        }
    )
    assert report.created == 3
    affinity = Affinity.get()
    assert (affinity.call_id, affinity.reviewer_id) == (call.id, reviewer.id)  # call derived
    assert Review.get(Review.external_id == "rev_9").proposal_id == proposal.id


def test_a_conflict_naming_another_call_than_its_proposals_is_rejected(db: Database) -> None:
    document = good_document()
    document["calls"].append({"external_id": "call_2", "name": "Other"})
    document["conflicts"][0]["call"] = "call_2"
    with pytest.raises(DataFileError) as raised:
        load_data(document)
    assert located(raised.value) == {("conflicts", 0, "call")}


def test_two_records_with_one_natural_key_are_rejected_even_by_different_ids(
    db: Database,
) -> None:
    stored = make_reviewer("user_001")
    document = good_document()
    del document["reviewers"]
    document["pool"].append({"call": "call_1", "reviewer": str(stored.uuid)})
    with pytest.raises(DataFileError) as raised:
        load_data(document)
    assert located(raised.value) == {("pool", 1, "reviewer")}


def test_managers_listed_for_a_call_become_exactly_its_managers(db: Database) -> None:
    document = good_document()
    document["users"].append({"external_id": "u_m", "username": "mary"})
    load_data(document)
    document["calls"][0]["managers"] = ["u_m"]
    report = load_data(document)
    assert report.counts["calls"].updated == 1
    assert [link.user.username for link in CallManager.select()] == ["mary"]


def test_a_token_in_the_file_is_stored_only_as_its_hash_and_authenticates(db: Database) -> None:
    load_data(good_document())
    admin = User.get(User.username == "admin")
    assert admin.token_hash == hash_token(TOKEN)
    assert TOKEN not in str(every_row())
    user = authenticate(TOKEN)
    assert user is not None and user.is_staff


def test_a_user_created_before_is_matched_by_username_and_given_the_external_id(
    db: Database,
) -> None:
    user, token = create_user("admin")
    document = {"users": [{"external_id": "u_admin", "username": "admin", "is_staff": True}]}
    assert load_data(document).counts["users"].updated == 1
    stored = User.get_by_id(user.id)
    assert (stored.external_id, stored.is_staff) == ("u_admin", True)
    assert authenticate(token) == stored  # no token in the file: the old one still works


def test_a_token_another_user_holds_is_rejected(db: Database) -> None:
    create_user("someone")
    other = User.get()
    User.update(token_hash=hash_token(TOKEN)).where(User.id == other.id).execute()
    with pytest.raises(DataFileError) as raised:
        load_data({"users": [{"username": "admin", "token": TOKEN}]})
    assert located(raised.value) == {("users", 0, "token")}


def test_giving_an_unassigned_review_a_reviewer_sets_when_it_was_assigned(db: Database) -> None:
    load_data(good_document())
    review = {"external_id": "rev_123", "proposal": "p_1"}
    load_data({"reviews": [{**review, "reviewer": "user_001", "state": "in_review"}]})
    stored = Review.get(Review.external_id == "rev_123")
    assert stored.state is ReviewState.IN_REVIEW and stored.reviewer.external_id == "user_001"
    assert stored.assigned_at is not None


def test_reloading_an_old_file_does_not_undo_an_assignment(db: Database) -> None:
    load_data(good_document())
    Review.update(reviewer=Reviewer.get().id, state=ReviewState.IN_REVIEW).execute()
    report = load_data({"reviews": [{**good_document()["reviews"][0], "priority": "urgent"}]})
    stored = Review.get(Review.external_id == "rev_123")
    assert report.counts["reviews"].updated == 1 and stored.priority == "urgent"
    assert stored.state is ReviewState.IN_REVIEW and stored.reviewer is not None


def test_ten_thousand_reviews_load_in_seconds(db: Database) -> None:
    load_data(good_document())
    document = {
        "reviews": [
            {"external_id": f"rev_{n:05d}", "proposal": "p_1", "priority": "high"}
            for n in range(10_000)
        ]
    }
    started = time.monotonic()
    report = load_data(document)
    loaded = time.monotonic() - started
    started = time.monotonic()
    again = load_data(document)
    reloaded = time.monotonic() - started
    assert report.counts["reviews"].created == 10_000
    assert again.counts["reviews"].unchanged == 10_000
    assert loaded < 10 and reloaded < 10, (loaded, reloaded)


def test_a_record_known_only_by_uuid_is_created_with_it_and_found_by_it_again(
    db: Database,
) -> None:
    record = {"uuid": "7e0d1c52-8d0e-4c55-9b7e-5c1e7c0b2a11", "name": "U", "email": "u@x.org"}
    assert load_data({"reviewers": [record]}).counts["reviewers"].created == 1
    assert str(Reviewer.get().uuid) == record["uuid"]
    again = load_data({"reviewers": [{**record, "name": "V"}]})
    assert again.counts["reviewers"].updated == 1
    assert [r.name for r in Reviewer.select()] == ["V"]
