"""generate-assignments' options as a use case, on SQLite and PostgreSQL: the algorithms (and
the engine's validator on their output), reviewers per proposal, the affinity threshold, the
window of unscored pairs, and a subset of the proposals."""

from __future__ import annotations

from typing import Any

import pytest
from peewee import Database

import tasks.batches.generate as generate_module
from matching import MatchingResult, find_violations
from store import (
    AssignmentItem,
    Call,
    ReviewerPoolEntry,
)
from store.enums import (
    ProposalState,
)
from store.workload import workloads
from tasks.batches.generate import generate_assignments
from tasks.errors import ValidationFailed
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL
from tests.builders import PoolWorld, build_pool_world, pending_items, reviewers_per_proposal
from tests.factories import (
    make_affinity,
    make_call,
    make_conflict,
    make_proposal,
)


@pytest.fixture
def world(db: Database) -> PoolWorld:
    """A call and its pool before any batch (instead of the conftest\'s batch world)."""
    return build_pool_world()


def test_the_engine_validator_finds_no_violation_on_a_busy_call(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = build_pool_world(n_proposals=12, n_reviewers=7, k=3, cap=5)
    for i, proposal in enumerate(w.proposals):
        make_conflict(w.call, w.reviewers[i % 7], proposal)
        for j, reviewer in enumerate(w.reviewers):
            make_affinity(w.call, reviewer, proposal, ((i * 7 + j * 3) % 10) / 10)
    results: list[MatchingResult] = []
    real_solve = generate_module.solve  # type: ignore[attr-defined]

    def spy(*args: Any, **kwargs: Any) -> MatchingResult:
        results.append(real_solve(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(generate_module, "solve", spy)
    answer = generate_assignments(w.staff, str(w.call.uuid)).to_json()
    assert find_violations(results[0].problem, results[0].pairs) == []
    assert answer["items_created"] == 35  # capacity 7 x 5 < demand 36
    assert max(reviewers_per_proposal(w.call).values()) <= 3
    assert max(workloads([r.id for r in w.reviewers], call_id=w.call.id).values()) <= 5
    blocked = {(c.reviewer_id, c.proposal_id) for c in w.call.conflicts}
    chosen = {
        (i.batch.reviewer_pool_entry.reviewer_id, i.proposal_id) for i in pending_items(w.call)
    }
    assert not chosen & blocked
    assert [s["reason"] for s in answer["skipped_proposals"]] == [
        "all eligible reviewers at capacity"
    ]


@pytest.mark.parametrize("algorithm", ["greedy", "optimal", "fair"])
def test_each_algorithm_fills_the_call_and_records_the_affinity(
    world: PoolWorld, algorithm: str
) -> None:
    for i, proposal in enumerate(world.proposals):
        for j, reviewer in enumerate(world.reviewers):
            make_affinity(world.call, reviewer, proposal, 0.9 if i == j else 0.3)
    answer = generate_assignments(world.staff, str(world.call.uuid), algorithm=algorithm).to_json()
    assert answer["items_created"] == 6
    scores = sorted(i.affinity_score for i in pending_items(world.call))
    assert scores == [0.3, 0.3, 0.3, 0.9, 0.9, 0.9]


def test_optimal_beats_greedy_where_greedy_is_myopic(db: Database) -> None:
    totals = {}
    for algorithm in ("greedy", "optimal"):
        w = build_pool_world(n_proposals=2, n_reviewers=2, k=1, cap=1)
        scores = {(0, 0): 0.9, (0, 1): 0.8, (1, 0): 0.8, (1, 1): 0.1}
        for (p, r), s in scores.items():
            make_affinity(w.call, w.reviewers[r], w.proposals[p], s)
        generate_assignments(w.staff, str(w.call.uuid), algorithm=algorithm)
        totals[algorithm] = sum(i.affinity_score for i in pending_items(w.call))
    assert totals["optimal"] == pytest.approx(1.6)
    assert totals["greedy"] == pytest.approx(1.0)


def test_the_call_algorithm_is_the_default(db: Database) -> None:
    w = build_pool_world(n_proposals=2, n_reviewers=2, k=1, cap=1)
    Call.update(algorithm="greedy").where(Call.id == w.call.id).execute()
    scores = {(0, 0): 0.9, (0, 1): 0.8, (1, 0): 0.8, (1, 1): 0.1}
    for (p, r), s in scores.items():
        make_affinity(w.call, w.reviewers[r], w.proposals[p], s)
    generate_assignments(w.staff, str(w.call.uuid))
    assert sum(i.affinity_score for i in pending_items(w.call)) == pytest.approx(1.0)


def test_an_unknown_algorithm_is_a_validation_error_naming_algorithm(world: PoolWorld) -> None:
    with pytest.raises(ValidationFailed) as caught:
        generate_assignments(world.staff, str(world.call.uuid), algorithm="magic")
    assert caught.value.body()["error"]["fields"] == ["algorithm"]
    assert AssignmentItem.select().count() == 0


def test_a_bad_reviewers_per_proposal_is_a_validation_error(world: PoolWorld) -> None:
    with pytest.raises(ValidationFailed) as caught:
        generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=0)
    assert caught.value.body()["error"]["fields"] == ["reviewers_per_proposal"]


def test_reviewers_per_proposal_overrides_the_call(world: PoolWorld) -> None:
    answer = generate_assignments(
        world.staff, str(world.call.uuid), reviewers_per_proposal=1
    ).to_json()
    assert answer["items_created"] == 3
    assert set(reviewers_per_proposal(world.call).values()) == {1}


def test_the_threshold_keeps_low_and_unscored_pairs_out(world: PoolWorld) -> None:
    Call.update(min_affinity_threshold=0.5).where(Call.id == world.call.id).execute()
    make_affinity(world.call, world.reviewers[0], world.proposals[0], 0.7)
    make_affinity(world.call, world.reviewers[1], world.proposals[0], 0.4)
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["items_created"] == 1
    assert [i.affinity_score for i in pending_items(world.call)] == [0.7]
    reasons = {s["proposal_uuid"]: s["reason"] for s in answer["skipped_proposals"]}
    assert reasons == {
        str(world.proposals[0].uuid): "fewer eligible reviewers than required",
        str(world.proposals[1].uuid): "no eligible reviewer",
        str(world.proposals[2].uuid): "no eligible reviewer",
    }


def test_with_a_zero_threshold_unscored_pairs_are_candidates_at_zero(world: PoolWorld) -> None:
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["items_created"] == 6
    assert {i.affinity_score for i in pending_items(world.call)} == {0.0}


def test_on_a_huge_call_unscored_pairs_come_from_a_rotating_window(
    world: PoolWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate_module, "DENSE_PAIR_LIMIT", 1)
    monkeypatch.setattr(generate_module, "ZERO_WINDOW", 2)
    ReviewerPoolEntry.update(max_assignments=3).execute()
    make_affinity(world.call, world.reviewers[2], world.proposals[0], 0.8)
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["items_created"] == 6
    chosen = {
        (i.batch.reviewer_pool_entry.reviewer_id, i.proposal_id) for i in pending_items(world.call)
    }
    assert (world.reviewers[2].id, world.proposals[0].id) in chosen


def test_a_subset_is_processed_and_unassignable_proposals_are_skipped(world: PoolWorld) -> None:
    draft = make_proposal(world.call, state=ProposalState.DRAFT)
    tokens = [str(world.proposals[1].uuid), str(draft.uuid)]
    answer = generate_assignments(
        world.staff, str(world.call.uuid), proposal_uuids=tokens
    ).to_json()
    assert answer["proposals_processed"] == 1
    assert answer["items_created"] == 2
    assert set(reviewers_per_proposal(world.call)) == {world.proposals[1].id}
    assert answer["skipped_proposals"] == [
        {
            "proposal_uuid": str(draft.uuid),
            "proposal_name": draft.name,
            "reason": "proposal is draft; only submitted or in_review proposals are assigned",
        }
    ]


def test_ids_of_no_proposal_are_filtered_out_as_waldur_filters_them(world: PoolWorld) -> None:
    unknown = "5f0c1c4e-0000-4000-8000-000000000000"
    tokens = [unknown, str(world.proposals[1].uuid), "no-such-proposal"]
    answer = generate_assignments(world.staff, str(world.call.uuid), proposal_uuids=tokens)
    assert (answer.proposals_processed, answer.items_created) == (1, 2)
    nothing = generate_assignments(world.staff, str(world.call.uuid), proposal_uuids=[unknown])
    assert (nothing.proposals_processed, nothing.items_created, nothing.skipped) == (0, 0, [])
    assert set(reviewers_per_proposal(world.call)) == {world.proposals[1].id}


@pytest.mark.parametrize(("k", "accepted"), [(MAX_REVIEWERS_PER_PROPOSAL, True), (21, False)])
def test_reviewers_per_proposal_goes_up_to_waldurs_twenty(
    world: PoolWorld, k: int, accepted: bool
) -> None:
    if accepted:
        generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=k)
        return
    with pytest.raises(ValidationFailed) as caught:
        generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=k)
    assert caught.value.body()["error"]["fields"] == ["reviewers_per_proposal"]


def test_a_proposal_of_another_call_is_a_validation_error(world: PoolWorld) -> None:
    stranger = make_proposal(make_call())
    with pytest.raises(ValidationFailed) as caught:
        generate_assignments(world.staff, str(world.call.uuid), proposal_uuids=[str(stranger.uuid)])
    assert caught.value.body()["error"]["fields"] == ["proposal_uuids"]


def test_an_empty_proposal_list_means_the_whole_call(world: PoolWorld) -> None:
    answer = generate_assignments(world.staff, str(world.call.uuid), proposal_uuids=[]).to_json()
    assert answer["proposals_processed"] == 3
    assert answer["items_created"] == 6
