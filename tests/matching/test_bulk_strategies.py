"""The seeds/004 strategies on plain data."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.bulk_strategies import (
    BulkReviewer,
    BulkTarget,
    Ineligibility,
    assign_expertise_based,
    assign_load_balanced,
    assign_round_robin,
    assign_specific,
)


def pool(*workloads: int, cap: int | None = None) -> list[BulkReviewer]:
    return [BulkReviewer(f"user_{i + 1:03d}", w, cap) for i, w in enumerate(workloads)]


def reviews(n: int, **ineligible: dict[int, Ineligibility]) -> list[BulkTarget]:
    return [BulkTarget(proposal=100 + i, ineligible=ineligible.get(f"t{i}", {})) for i in range(n)]


def test_round_robin_gives_the_seed_example_in_pool_order() -> None:
    outcome = assign_round_robin(reviews(3), pool(7, 6, 8, cap=10))
    assert outcome.assigned == {0: 0, 1: 1, 2: 2}
    assert outcome.next_position == 0


def test_round_robin_continues_from_the_given_position_and_skips_the_blocked() -> None:
    targets = reviews(3, t0={1: Ineligibility.CONFLICT})
    outcome = assign_round_robin(targets, pool(0, 0, 0), start=1)
    assert outcome.assigned == {0: 2, 1: 0, 2: 1}
    assert outcome.next_position == 2


def test_round_robin_skips_full_reviewers_and_fails_when_all_are_full() -> None:
    outcome = assign_round_robin(reviews(3), pool(1, 0, cap=1))
    assert outcome.assigned == {0: 1}
    assert outcome.failures[1] == "All eligible reviewers in the pool are at capacity"
    assert set(outcome.failures) == {1, 2}


def test_specific_sends_review_i_to_reviewer_i_mod_n_and_names_the_conflict() -> None:
    targets = reviews(4, t2={0: Ineligibility.CONFLICT})
    outcome = assign_specific(targets, pool(0, 0))
    assert outcome.assigned == {0: 0, 1: 1, 3: 1}
    assert outcome.failures == {2: "Reviewer user_001: conflict of interest"}


def test_specific_respects_max_per_reviewer() -> None:
    outcome = assign_specific(reviews(3), pool(2, cap=3))
    assert outcome.assigned == {0: 0}
    assert outcome.failures[1] == "Reviewer user_001 is at capacity (maxPerReviewer 3)"


def test_load_balanced_picks_the_least_loaded_counting_this_request() -> None:
    outcome = assign_load_balanced(reviews(4), pool(3, 1, 1))
    assert outcome.assigned == {0: 1, 1: 2, 2: 1, 3: 2}


def test_no_strategy_gives_one_reviewer_two_reviews_of_one_proposal() -> None:
    same = [BulkTarget(proposal=1), BulkTarget(proposal=1)]
    for outcome in (
        assign_round_robin(same, pool(0)),
        assign_load_balanced(same, pool(0)),
        assign_specific(same, pool(0)),
        assign_expertise_based(same, pool(0), {(0, 0): 1.0, (1, 0): 1.0}),
    ):
        assert list(outcome.assigned.values()) == [0]
        assert len(outcome.failures) == 1


def test_expertise_based_maximises_total_affinity_not_review_by_review() -> None:
    # Greedy would give review 0 to reviewer 0 (0.9) and leave review 1 with 0.1.
    scores = {(0, 0): 0.9, (0, 1): 0.8, (1, 0): 0.85, (1, 1): 0.1}
    outcome = assign_expertise_based(reviews(2), pool(0, 0, cap=1), scores, consider_workload=False)
    assert outcome.assigned == {0: 1, 1: 0}


def test_expertise_based_with_workload_prefers_the_less_busy_on_equal_affinity() -> None:
    scores = {(0, 0): 0.5, (0, 1): 0.5}
    outcome = assign_expertise_based(reviews(1), pool(9, 1), scores)
    assert outcome.assigned == {0: 1}


def test_expertise_based_assigns_as_many_reviews_as_possible_first() -> None:
    # Review 0 only fits reviewer 0; the higher score of (1, 0) must not starve it.
    targets = reviews(2, t0={1: Ineligibility.CONFLICT})
    scores = {(0, 0): 0.1, (1, 0): 1.0, (1, 1): 0.0}
    outcome = assign_expertise_based(targets, pool(0, 0, cap=1), scores)
    assert outcome.assigned == {0: 0, 1: 1}


@settings(max_examples=60, deadline=None)
@given(
    n_reviews=st.integers(1, 5),
    n_reviewers=st.integers(1, 3),
    cap=st.integers(1, 3),
    data=st.data(),
)
def test_expertise_based_equals_brute_force_optimum(
    n_reviews: int, n_reviewers: int, cap: int, data: st.DataObject
) -> None:
    scores = {
        (t, r): data.draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]))
        for t in range(n_reviews)
        for r in range(n_reviewers)
    }
    proposals = [data.draw(st.integers(0, 2)) for _ in range(n_reviews)]
    targets = [BulkTarget(p) for p in proposals]
    reviewers = pool(*([0] * n_reviewers), cap=cap)
    outcome = assign_expertise_based(targets, reviewers, scores, consider_workload=False)

    best = (-1, -1.0)
    for choice in itertools.product([None, *range(n_reviewers)], repeat=n_reviews):
        loads = [choice.count(r) for r in range(n_reviewers)]
        pairs = {(proposals[t], r) for t, r in enumerate(choice) if r is not None}
        taken = sum(r is not None for r in choice)
        if max(loads) > cap or len(pairs) < taken:
            continue
        total = sum(scores[(t, r)] for t, r in enumerate(choice) if r is not None)
        best = max(best, (taken, round(total, 9)))
    got_total = round(sum(scores[(t, r)] for t, r in outcome.assigned.items()), 9)
    assert (len(outcome.assigned), got_total) == best
