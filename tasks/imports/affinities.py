"""Affinities computed from text for a whole call, stored as `computed` Affinity rows.

The call's proposals (name, summary, keywords) and the reviewers of its pool (expertise,
biography) are read in a constant number of queries and scored at once by
`matching.compute_affinities`. The result is compared with the stored rows in memory, so only
new or changed scores are written (bulk upsert, a statement per ROWS_PER_STATEMENT rows) and a
second run writes nothing. An `imported` row is the producer's word: the upsert's WHERE leaves
it alone even if it appeared after the read, and it is never deleted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching import Pairs
from matching.affinity import AffinityInputs, ProposalText, ReviewerProfile, compute_affinities
from matching.problem import FloatArray, IntArray, int_array
from store import Affinity, Call, Proposal, Reviewer, ReviewerPoolEntry, write_transaction
from store.clock import utcnow
from store.enums import AffinitySource
from store.locks import locked
from store.lookups import resolve_id
from tasks.eligibility import id_chunks
from tasks.errors import NotFound, ValidationFailed
from tasks.imports.load import MAX_BOUND_PARAMETERS

Progress = Callable[[str], None]
COLUMNS = (
    Affinity.uuid,
    Affinity.call,
    Affinity.proposal,
    Affinity.reviewer,
    Affinity.score,
    Affinity.source,
    Affinity.created,
    Affinity.modified,
)
#: as many rows as keep a statement within the bound parameters a data-file load uses
ROWS_PER_STATEMENT = MAX_BOUND_PARAMETERS // len(COLUMNS)
#: a stored score this close to the new one is unchanged (PostgreSQL and SQLite keep doubles)
SCORE_TOLERANCE = 1e-9
#: (proposal id, reviewer id) packed into one int64 key; ids stay below 2**31
KEY_SHIFT = 31


@dataclass(frozen=True)
class AffinityReport:
    """What one computation did to the call's Affinity rows."""

    call_uuid: str
    proposals: int
    reviewers: int
    pairs_computed: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    imported_kept: int
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _CallTexts:
    proposal_ids: list[int]
    proposals: list[ProposalText]
    reviewer_ids: list[int]
    reviewers: list[ReviewerProfile]


@dataclass(frozen=True)
class _StoredRows:
    """The call's Affinity rows, as arrays over one packed (proposal, reviewer) key."""

    ids: IntArray
    keys: IntArray
    scores: FloatArray
    imported: NDArray[np.bool_]


def compute_call_affinities(
    call_token: str,
    *,
    threshold: float = 0.0,
    top_per_proposal: int | None = None,
    on_progress: Progress | None = None,
) -> AffinityReport:
    """Score every (proposal, reviewer of the pool) pair of the call and store the result.

    Guarantees, in one transaction holding the Call row lock: afterwards the call's `computed`
    rows are exactly the pairs scoring above 0 and at least `threshold` (within each proposal's
    best `top_per_proposal`, if given); stale computed rows are deleted; `imported` rows are
    never changed nor deleted, and their pairs keep the imported score. Idempotent: a second
    run with the same texts writes nothing. Raises NotFound (no such call, by uuid or external
    id) or ValidationFailed (threshold outside [0, 1], top below 1), writing nothing.
    """
    _check_options(threshold, top_per_proposal)
    started = time.monotonic()
    with write_transaction():
        found = resolve_id(Call, str(call_token))
        if found is None:
            raise NotFound("call")
        call = locked(Call.select().where(Call.id == found.id)).get()
        report = store_call_affinities(
            call, threshold=threshold, top_per_proposal=top_per_proposal, on_progress=on_progress
        )
    return replace(report, seconds=time.monotonic() - started)


def call_has_affinities(call_id: int) -> bool:
    """Whether the call has any Affinity row, imported or computed."""
    return bool(Affinity.select().where(Affinity.call == call_id).exists())


def store_call_affinities(
    call: Call,
    *,
    threshold: float = 0.0,
    top_per_proposal: int | None = None,
    on_progress: Progress | None = None,
) -> AffinityReport:
    """`compute_call_affinities` for a call the caller has locked, inside its transaction."""
    started = time.monotonic()
    progress = on_progress or (lambda _: None)
    progress("reading proposals and reviewers")
    texts = _call_texts(call)
    stored = _stored_rows(call)
    progress(f"scoring {len(texts.proposals):,} proposals x {len(texts.reviewers):,} reviewers")
    pairs = compute_affinities(
        AffinityInputs(texts.proposals, texts.reviewers, threshold, top_per_proposal)
    )
    report = _apply(call, texts, pairs, stored, progress)
    return replace(report, seconds=time.monotonic() - started)


def _check_options(threshold: float, top_per_proposal: int | None) -> None:
    errors = []
    if not 0.0 <= threshold <= 1.0:
        errors.append({"field": "threshold", "message": "must be from 0 to 1"})
    if top_per_proposal is not None and top_per_proposal < 1:
        errors.append({"field": "top_per_proposal", "message": "must be at least 1"})
    if errors:
        raise ValidationFailed(errors)


def _call_texts(call: Call) -> _CallTexts:
    """The call's proposals and its pool's reviewers, by id: two queries."""
    proposals = (
        Proposal.select(Proposal.id, Proposal.name, Proposal.summary, Proposal.keywords)
        .where(Proposal.call == call.id)
        .order_by(Proposal.id)
        .tuples()
    )
    reviewers = (
        Reviewer.select(Reviewer.id, Reviewer.expertise, Reviewer.biography)
        .join(ReviewerPoolEntry)
        .where(ReviewerPoolEntry.call == call.id)
        .order_by(Reviewer.id)
        .tuples()
    )
    p_rows, r_rows = list(proposals), list(reviewers)
    return _CallTexts(
        [p[0] for p in p_rows],
        [
            ProposalText(name, summary or "", _strings(keywords))
            for _, name, summary, keywords in p_rows
        ],
        [r[0] for r in r_rows],
        [ReviewerProfile(expertise_pairs(e), bio or "") for _, e, bio in r_rows],
    )


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def expertise_pairs(expertise: Any) -> list[tuple[str, str]]:
    """A reviewer's stored expertise as (keyword, proficiency): the data file's
    {"keyword", "proficiency"} objects; a [keyword, proficiency] pair is read the same way."""
    if not isinstance(expertise, list):
        return []
    out = []
    for entry in expertise:
        if isinstance(entry, dict) and entry.get("keyword"):
            out.append((str(entry["keyword"]), str(entry.get("proficiency", ""))))
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            out.append((str(entry[0]), str(entry[1])))
    return out


def _pack(proposal_ids: Any, reviewer_ids: Any) -> IntArray:
    return (int_array(proposal_ids) << KEY_SHIFT) | int_array(reviewer_ids)


def _stored_rows(call: Call) -> _StoredRows:
    query = Affinity.select(
        Affinity.id, Affinity.proposal, Affinity.reviewer, Affinity.score, Affinity.source
    ).where(Affinity.call == call.id)
    rows = list(query.tuples())
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 5
    ids, proposals, reviewers, scores, sources = columns
    return _StoredRows(
        int_array(ids),
        _pack(proposals, reviewers),
        np.asarray(scores, dtype=np.float64),
        np.asarray([s == AffinitySource.IMPORTED for s in sources], dtype=bool),
    )


def _apply(
    call: Call, texts: _CallTexts, pairs: Pairs, stored: _StoredRows, progress: Progress
) -> AffinityReport:
    """Write what changed: upsert new and rescored pairs, delete computed rows not computed now."""
    proposal_ids = int_array(texts.proposal_ids)[pairs.target]
    reviewer_ids = int_array(texts.reviewer_ids)[pairs.reviewer]
    keys = _pack(proposal_ids, reviewer_ids)
    found, at = _lookup(stored.keys, keys)
    imported = found & _take(stored.imported, at, False)
    old_scores = _take(stored.scores, at, np.nan)
    same = found & ~imported & (np.abs(old_scores - pairs.score) <= SCORE_TOLERANCE)
    write = ~imported & ~same
    stale = ~stored.imported & ~np.isin(stored.keys, keys)
    _upsert(call, proposal_ids[write], reviewer_ids[write], pairs.score[write], progress)
    _delete(stored.ids[stale].tolist(), progress)
    return AffinityReport(
        call_uuid=str(call.uuid),
        proposals=len(texts.proposals),
        reviewers=len(texts.reviewers),
        pairs_computed=len(pairs),
        inserted=int((~found).sum()),
        updated=int((write & found).sum()),
        unchanged=int(same.sum()),
        deleted=int(stale.sum()),
        imported_kept=int(stored.imported.sum()),
    )


def _lookup(stored_keys: IntArray, keys: IntArray) -> tuple[NDArray[np.bool_], IntArray]:
    """For each key: is it stored, and at which index of `stored_keys` (0 when not)."""
    if not len(stored_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    order = np.argsort(stored_keys, kind="stable")
    pos = np.minimum(np.searchsorted(stored_keys[order], keys), len(order) - 1)
    at = order[pos]
    return stored_keys[at] == keys, at


def _take(values: NDArray[Any], at: IntArray, fill: Any) -> NDArray[Any]:
    """values[at], or `fill` everywhere when nothing is stored (`at` then points nowhere)."""
    return values[at] if len(values) else np.full(len(at), fill, dtype=values.dtype)


def _upsert(
    call: Call,
    proposal_ids: IntArray,
    reviewer_ids: IntArray,
    scores: FloatArray,
    progress: Progress,
) -> None:
    """Insert the pairs as computed rows; a stored computed row of a pair takes the new score,
    a stored imported one is left as it is (the WHERE of ON CONFLICT)."""
    now, total = utcnow(), len(scores)
    rows = zip(proposal_ids.tolist(), reviewer_ids.tolist(), scores.tolist(), strict=True)
    batch: list[tuple[Any, ...]] = []
    for done, (proposal, reviewer, score) in enumerate(rows, start=1):
        batch.append(
            (uuid.uuid4(), call.id, proposal, reviewer, score, AffinitySource.COMPUTED, now, now)
        )
        if len(batch) == ROWS_PER_STATEMENT or done == total:
            progress(f"writing affinities {done:,} / {total:,}")
            _upsert_statement(batch)
            batch = []


def _upsert_statement(rows: Sequence[tuple[Any, ...]]) -> None:
    Affinity.insert_many(rows, fields=list(COLUMNS)).on_conflict(
        conflict_target=[Affinity.proposal, Affinity.reviewer],
        preserve=[Affinity.score, Affinity.source, Affinity.modified],
        where=(Affinity.source == AffinitySource.COMPUTED),
    ).execute()


def _delete(row_ids: list[int], progress: Progress) -> None:
    if row_ids:
        progress(f"deleting {len(row_ids):,} stale affinities")
    for chunk in id_chunks(row_ids):
        Affinity.delete().where(
            Affinity.id.in_(chunk), Affinity.source == AffinitySource.COMPUTED
        ).execute()
