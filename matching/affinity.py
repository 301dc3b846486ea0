"""Affinity when none was imported: keyword match and TF-IDF cosine, vectorised over a call.

score = 0.4 x keyword score + 0.6 x TF-IDF cosine, both in [0, 1]:
- keyword score: the proficiency-weighted share of the proposal's keywords that the reviewer
  lists as expertise (expert 1.0, familiar 0.6, basic 0.3);
- TF-IDF cosine between the reviewer's biography + keywords and the proposal's name + summary +
  keywords (sublinear term frequency, smoothed IDF fitted on the call's documents).
Both are sparse matrix products computed a block of proposals at a time, so memory grows with
the block and the pairs kept, never with proposals x reviewers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, diags

from matching.problem import FloatArray, Pairs

PROFICIENCY_WEIGHT = {"expert": 1.0, "familiar": 0.6, "basic": 0.3}
KEYWORD_SHARE, TEXT_SHARE = 0.4, 0.6
#: cells (proposals x reviewers) of one dense score block: 8 bytes each
BLOCK_CELLS = 8_000_000
_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "this",
        "to",
        "we",
        "with",
        "which",
        "will",
        "using",
        "use",
        "based",
        "new",
        "study",
        "research",
        "project",
    ]
)


@dataclass(frozen=True)
class ProposalText:
    name: str
    summary: str = ""
    keywords: Sequence[str] = ()


@dataclass(frozen=True)
class ReviewerProfile:
    #: (keyword, proficiency) with proficiency expert | familiar | basic
    expertise: Sequence[tuple[str, str]] = ()
    biography: str = ""


@dataclass(frozen=True)
class AffinityInputs:
    proposals: Sequence[ProposalText]
    reviewers: Sequence[ReviewerProfile]
    #: keep pairs scoring at least this much
    threshold: float = 0.0
    #: keep at most this many best reviewers per proposal (None: all above the threshold)
    top_per_proposal: int | None = None


def normalise_keyword(keyword: str) -> str:
    return " ".join(keyword.lower().split())


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def _indexed(rows: Iterable[Iterable[tuple[str, float]]], vocab: dict[str, int]) -> csr_matrix:
    """One sparse row per document: term -> summed weight, terms numbered in `vocab`."""
    indptr, indices, data = [0], [], []
    for row in rows:
        for term, weight in row:
            indices.append(vocab.setdefault(term, len(vocab)))
            data.append(weight)
        indptr.append(len(indices))
    matrix = csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, max(len(vocab), 1)))
    matrix.sum_duplicates()
    return matrix


def _weighted_expertise(reviewer: ReviewerProfile) -> list[tuple[str, float]]:
    return [
        (normalise_keyword(k), PROFICIENCY_WEIGHT.get(level.lower(), 0.0))
        for k, level in reviewer.expertise
    ]


def keyword_matrices(inputs: AffinityInputs) -> tuple[csr_matrix, csr_matrix]:
    """Proposals x keywords (each row sums to 1) and reviewers x keywords (proficiency)."""
    vocab: dict[str, int] = {}
    props = _indexed(
        ([(normalise_keyword(k), 1.0) for k in set(p.keywords)] for p in inputs.proposals), vocab
    )
    revs = _indexed((_weighted_expertise(r) for r in inputs.reviewers), vocab)
    width = max(len(vocab), 1)
    props.resize((props.shape[0], width))
    revs.resize((revs.shape[0], width))
    revs.data = np.minimum(revs.data, 1.0)  # a keyword listed twice counts at most as expert
    counts = np.asarray(props.sum(axis=1)).ravel()
    return csr_matrix(diags(1.0 / np.maximum(counts, 1.0)) @ props), revs


def tfidf_matrices(inputs: AffinityInputs) -> tuple[csr_matrix, csr_matrix]:
    """L2-normalised TF-IDF rows for proposals and reviewers over one shared vocabulary."""
    vocab: dict[str, int] = {}
    prop_docs = (tokens(" ".join([p.name, p.summary, *p.keywords])) for p in inputs.proposals)
    rev_docs = (
        tokens(" ".join([r.biography, *(k for k, _ in r.expertise)])) for r in inputs.reviewers
    )
    both = _indexed(([(t, 1.0) for t in doc] for doc in [*prop_docs, *rev_docs]), vocab)
    both.data = 1.0 + np.log(both.data)
    n_docs = both.shape[0]
    df = np.bincount(both.indices, minlength=both.shape[1])
    both = csr_matrix(both @ diags(np.log((1 + n_docs) / (1 + df)) + 1.0))
    norms = np.sqrt(np.asarray(both.multiply(both).sum(axis=1)).ravel())
    both = csr_matrix(diags(1.0 / np.maximum(norms, 1e-12)) @ both)
    n_p = len(inputs.proposals)
    return csr_matrix(both[:n_p]), csr_matrix(both[n_p:])


def compute_affinities(inputs: AffinityInputs) -> Pairs:
    """Every (proposal, reviewer) pair scoring above 0 and >= threshold, within the top-N if asked.

    Pairs are sorted by proposal, then reviewer; scores are in [0, 1]. Work is done a block of
    proposals at a time as dense BLOCK_CELLS-sized score blocks (text products are nearly
    dense), so memory is bounded by the block plus the pairs kept.
    """
    kp, kr = keyword_matrices(inputs)
    tp, tr = tfidf_matrices(inputs)
    kr_t, tr_t = csr_matrix(kr.T), csr_matrix(tr.T)
    rows = max(1, BLOCK_CELLS // max(len(inputs.reviewers), 1))
    parts: list[Pairs] = []
    for start in range(0, len(inputs.proposals), rows):
        end = min(start + rows, len(inputs.proposals))
        block = TEXT_SHARE * (tp[start:end] @ tr_t).toarray()
        block += KEYWORD_SHARE * (kp[start:end] @ kr_t).toarray()
        parts.append(_kept(np.clip(block, 0.0, 1.0), start, inputs))
    if not parts:
        return Pairs.empty()
    return Pairs.of(
        np.concatenate([p.target for p in parts]),
        np.concatenate([p.reviewer for p in parts]),
        np.concatenate([p.score for p in parts]),
    )


def _kept(block: FloatArray, offset: int, inputs: AffinityInputs) -> Pairs:
    """The pairs of a dense block worth keeping, sorted by (row, column)."""
    n_rows, n_cols = block.shape
    top = inputs.top_per_proposal
    if top is not None and top < n_cols:
        cols = np.argpartition(-block, top - 1, axis=1)[:, :top]
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), top)
        cols = cols.ravel()
    else:
        rows, cols = np.nonzero(block > 0)
    values = block[rows, cols]
    keep = (values > 0) & (values >= inputs.threshold)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    order = np.lexsort((cols, rows))
    return Pairs.of(rows[order] + offset, cols[order], values[order])
