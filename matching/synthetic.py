"""A seeded synthetic call for tests and the benchmark: topical affinities, sparse candidates."""

from __future__ import annotations

import math

import numpy as np

from matching.affinity import ProposalText, ReviewerProfile
from matching.problem import (
    Exclusions,
    FloatArray,
    IntArray,
    MatchingProblem,
    Pairs,
    Reviewers,
    Targets,
)
from matching.reasons import ExclusionKind

TOPICS = 24
CHUNK = 500_000


def _topics(rng: np.random.Generator, n_p: int, n_r: int) -> tuple[FloatArray, ...]:
    """Unit-length topic mixtures of proposals and reviewers, and each reviewer's quality."""
    prop_topics = rng.dirichlet(np.full(TOPICS, 0.3), n_p)
    rev_topics = rng.dirichlet(np.full(TOPICS, 0.3), n_r)
    prop_topics /= np.linalg.norm(prop_topics, axis=1, keepdims=True)
    rev_topics /= np.linalg.norm(rev_topics, axis=1, keepdims=True)
    return prop_topics, rev_topics, rng.random(n_r)


def _random_pairs(
    rng: np.random.Generator, n_p: int, n_r: int, per_proposal: int
) -> tuple[IntArray, IntArray]:
    """`per_proposal` random reviewers per proposal, duplicates dropped, sorted."""
    target = np.repeat(np.arange(n_p, dtype=np.int64), min(per_proposal, n_r))
    reviewer = rng.integers(0, n_r, len(target), dtype=np.int64)
    keys = np.unique(target * n_r + reviewer)
    return keys // n_r, keys % n_r


def synthetic_problem(
    n_proposals: int,
    n_reviewers: int,
    *,
    candidates_per_proposal: int = 100,
    reviewers_per_proposal: int = 3,
    slack: float = 1.25,
    conflict_rate: float = 0.01,
    quality_weight: float = 0.3,
    seed: int = 0,
) -> MatchingProblem:
    """Proposals and reviewers with random topic mixtures.

    score = (1 - quality_weight) x cosine of the mixtures + quality_weight x the reviewer's
    random "quality", so strong reviewers are wanted by many proposals (contention).

    Each proposal gets `candidates_per_proposal` random reviewers (duplicates dropped, so a few
    fewer); `conflict_rate` of the pairs are conflicts of interest. Capacity is uniform, total
    supply = `slack` x demand. The same arguments always give the same problem.
    """
    rng = np.random.default_rng(seed)
    prop_topics, rev_topics, quality = _topics(rng, n_proposals, n_reviewers)
    target, reviewer = _random_pairs(rng, n_proposals, n_reviewers, candidates_per_proposal)
    score = np.empty(len(target))
    for start in range(0, len(target), CHUNK):
        t, r = target[start : start + CHUNK], reviewer[start : start + CHUNK]
        dots = np.einsum("ij,ij->i", prop_topics[t], rev_topics[r])
        mixed = (1 - quality_weight) * dots + quality_weight * quality[r]
        score[start : start + CHUNK] = np.round(mixed, 6)
    conflict = rng.random(len(target)) < conflict_rate
    capacity = math.ceil(slack * n_proposals * reviewers_per_proposal / max(n_reviewers, 1))
    return MatchingProblem(
        targets=Targets.one_per_proposal(list(range(n_proposals)), reviewers_per_proposal),
        reviewers=Reviewers.uniform(list(range(n_reviewers)), capacity),
        candidates=Pairs(target, reviewer, score),
        exclusions=Exclusions.of(
            target[conflict], reviewer[conflict], [ExclusionKind.CONFLICT] * int(conflict.sum())
        ),
    )


def synthetic_texts(
    n_proposals: int, n_reviewers: int, *, seed: int = 0, words_per_topic: int = 400
) -> tuple[list[ProposalText], list[ReviewerProfile]]:
    """Proposals (name, ~120-word summary, 5 keywords) and reviewers (~80-word biography,
    6 expertise keywords) drawn from topical vocabularies."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"t{t}w{w}" for t in range(TOPICS) for w in range(words_per_topic)])
    keywords = np.array([f"topic {t} keyword {k}" for t in range(TOPICS) for k in range(30)])
    levels = np.array(["expert", "familiar", "basic"])

    def draw(n_words: int, n_keys: int) -> tuple[str, list[str]]:
        topics = rng.choice(TOPICS, size=2, replace=False)
        words = rng.choice(words_per_topic, size=n_words) + words_per_topic * rng.choice(
            topics, n_words
        )
        keys = rng.choice(30, size=n_keys) + 30 * rng.choice(topics, n_keys)
        return " ".join(vocab[words]), keywords[keys].tolist()

    proposals = []
    for _ in range(n_proposals):
        text, keys = draw(126, 5)
        proposals.append(ProposalText(text[:60], text[60:], keys))
    reviewers = []
    for _ in range(n_reviewers):
        text, keys = draw(80, 6)
        expertise = list(zip(keys, levels[rng.integers(0, 3, len(keys))].tolist(), strict=True))
        reviewers.append(ReviewerProfile(expertise, text))
    return proposals, reviewers
