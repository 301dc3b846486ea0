"""Affinity from keywords and text, vectorised, sparse, thresholded."""

from __future__ import annotations

import numpy as np
import pytest

from matching.affinity import AffinityInputs, ProposalText, ReviewerProfile, compute_affinities

PROPOSALS = [
    ProposalText(
        "Graph algorithms at scale",
        "Parallel shortest paths on huge graphs.",
        ["graph theory", "parallel computing"],
    ),
    ProposalText(
        "Protein folding", "Deep learning predicts protein structure.", ["deep learning", "biology"]
    ),
]
REVIEWERS = [
    ReviewerProfile(
        [("graph theory", "expert"), ("parallel computing", "familiar")],
        "I study shortest paths and graphs.",
    ),
    ReviewerProfile([("deep learning", "basic")], "Protein structure and biology."),
    ReviewerProfile([], "Medieval history."),
]


def scores(**kwargs: object) -> dict[tuple[int, int], float]:
    pairs = compute_affinities(AffinityInputs(PROPOSALS, REVIEWERS, **kwargs))  # type: ignore[arg-type]
    return {
        (int(t), int(r)): float(s)
        for t, r, s in zip(pairs.target, pairs.reviewer, pairs.score, strict=True)
    }


def test_the_matching_expert_scores_highest_for_each_proposal() -> None:
    got = scores()
    assert got[(0, 0)] > got.get((0, 1), 0.0) and got[(1, 1)] > got.get((1, 0), 0.0)


def test_keyword_share_weighs_proficiency() -> None:
    got = scores()
    # reviewer 0: expert (1.0) + familiar (0.6) of two keywords -> keyword score 0.8
    assert got[(0, 0)] >= 0.4 * 0.8
    assert got[(0, 0)] <= 1.0


def test_unrelated_reviewers_get_no_pair_above_a_threshold() -> None:
    got = scores(threshold=0.05)
    assert (0, 2) not in got and (1, 2) not in got
    assert all(s >= 0.05 for s in got.values())


def test_top_per_proposal_keeps_only_the_best() -> None:
    got = scores(top_per_proposal=1)
    assert sorted(got) == [(0, 0), (1, 1)]


def test_scores_are_symmetric_in_document_order() -> None:
    forward = compute_affinities(AffinityInputs(PROPOSALS, REVIEWERS))
    backward = compute_affinities(AffinityInputs(PROPOSALS[::-1], REVIEWERS))
    a = {
        (int(t), int(r)): s
        for t, r, s in zip(forward.target, forward.reviewer, forward.score, strict=True)
    }
    b = {
        (1 - int(t), int(r)): s
        for t, r, s in zip(backward.target, backward.reviewer, backward.score, strict=True)
    }
    assert a.keys() == b.keys()
    assert np.allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(a)])


def test_empty_inputs_give_no_pairs() -> None:
    assert len(compute_affinities(AffinityInputs([], REVIEWERS))) == 0
    assert pytest.approx(0) == len(compute_affinities(AffinityInputs(PROPOSALS, [])))
