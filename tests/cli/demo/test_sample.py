"""The demo's sample data file: deterministic, valid, and as big and varied as promised."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from peewee import Database

from cli.demo.sample import SEED_REVIEWS, sample_document
from store import Reviewer
from store.workload import workloads
from tasks.imports.data_file import parse_document
from tasks.imports.load import load_data
from tasks.users import authenticate


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return sample_document()


def test_the_same_seed_gives_the_same_document_and_another_seed_another(
    document: dict[str, Any],
) -> None:
    assert sample_document(7) == document
    assert sample_document(8) != document


def test_the_sample_passes_record_validation(document: dict[str, Any]) -> None:
    assert parse_document(document)[1] == []


def test_the_sample_has_the_promised_sizes(document: dict[str, Any]) -> None:
    sizes = {array: len(records) for array, records in document.items()}
    assert sizes["reviewers"] == 48 and sizes["proposals"] == 120 and sizes["reviews"] == 240
    assert 1 <= sizes["calls"] <= 2
    assert [r["external_id"] for r in document["reviewers"][:2]] == ["user_001", "user_002"]
    assert document["reviewers"][-1]["external_id"] == "user_048"
    assert {f"rev_{n:03d}" for n in range(1, 239)} <= {
        r["external_id"] for r in document["reviews"]
    }


def test_reviewers_have_expertise_at_every_level_and_organizations(
    document: dict[str, Any],
) -> None:
    levels = Counter(e["proficiency"] for r in document["reviewers"] for e in r["expertise"])
    assert set(levels) == {"expert", "familiar", "basic"}
    assert all(len(r["expertise"]) >= 2 for r in document["reviewers"])
    assert len({r["organization"] for r in document["reviewers"]}) >= 10
    assert all(p["keywords"] and p["summary"] for p in document["proposals"])


def test_the_pool_is_mostly_accepted_with_varied_capacities(document: dict[str, Any]) -> None:
    statuses = Counter(e["invitation_status"] for e in document["pool"])
    assert statuses["accepted"] > 0.8 * len(document["pool"])
    assert len({e["max_assignments"] for e in document["pool"]}) >= 4


def test_conflicts_are_pending_and_resolved_and_affinities_are_sparse(
    document: dict[str, Any],
) -> None:
    statuses = Counter(c["status"] for c in document["conflicts"])
    assert statuses["pending"] > 0 and statuses["dismissed"] + statuses["waived"] > 0
    pairs = sum(
        sum(p["call"] == e["call"] for p in document["proposals"]) for e in document["pool"]
    )
    assert 0.1 * pairs < len(document["affinities"]) < 0.6 * pairs
    assert all(0.0 <= a["score"] <= 1.0 for a in document["affinities"])


def test_reviews_are_mostly_unassigned_with_enough_left_for_the_demo(
    document: dict[str, Any],
) -> None:
    states = Counter(r["state"] for r in document["reviews"])
    assert set(states) == {"unassigned", "in_review"}
    free = [
        r for r in document["reviews"]
        if r["state"] == "unassigned" and r["external_id"] not in SEED_REVIEWS
    ]  # fmt: skip
    assert len(free) >= 182  # the demo's scenarios use free[0:182]
    assert states["in_review"] >= 20


def test_the_seed_example_reviews_are_unassigned_and_free_of_conflicts(
    document: dict[str, Any],
) -> None:
    seeds = {r["external_id"]: r for r in document["reviews"] if r["external_id"] in SEED_REVIEWS}
    assert set(seeds) == set(SEED_REVIEWS)
    assert all(r["state"] == "unassigned" and r["reviewer"] is None for r in seeds.values())
    proposals = {r["proposal"] for r in seeds.values()}
    call = {p["external_id"]: p["call"] for p in document["proposals"]}
    assert {call[p] for p in proposals} == {"call_1"}
    assert not [c for c in document["conflicts"] if c["proposal"] in proposals]
    trio = {"user_001", "user_002", "user_003"}
    entries = [e for e in document["pool"] if e["call"] == "call_1" and e["reviewer"] in trio]
    assert {e["invitation_status"] for e in entries} == {"accepted"} and len(entries) == 3


def test_the_sample_loads_and_reviewers_start_with_mixed_workloads(
    db: Database, document: dict[str, Any]
) -> None:
    report = load_data(document)
    assert {a: c.created for a, c in report.counts.items()} == {
        a: len(records) for a, records in document.items()
    }
    ids = dict(Reviewer.select(Reviewer.external_id, Reviewer.id).tuples())
    loads = workloads(list(ids.values()))
    assert [loads[ids[f"user_00{n}"]] for n in (1, 2, 3)] == [7, 6, 8]
    others = Counter(
        loads[i] for r, i in ids.items() if r not in {"user_001", "user_002", "user_003"}
    )
    assert others[0] > 0 and len(others) >= 4 and max(others) <= 6


def test_the_sample_users_are_an_admin_a_manager_and_the_reviewers(
    db: Database, document: dict[str, Any]
) -> None:
    load_data(document)
    users = {u["username"]: u for u in document["users"]}
    admin = authenticate(users["admin"]["token"])
    manager = authenticate(users["manager"]["token"])
    assert admin is not None and admin.is_staff
    assert manager is not None and not manager.is_staff
    assert {link.call.external_id for link in manager.managed_call_links} == {"call_1", "call_2"}
    assert len(users) == 2 + 48


def test_a_small_sample_is_valid_too(db: Database) -> None:
    small = sample_document(1, reviewers=5, proposals=6, reviews=8)
    report = load_data(small)
    assert report.counts["reviews"].created == 8
    assert {r["external_id"] for r in small["reviews"]} >= set(SEED_REVIEWS)
    with pytest.raises(ValueError):
        sample_document(reviewers=2)
