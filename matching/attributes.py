"""Per-proposal attribute constraints: at least N reviewers with an attribute value (e.g.
`senior=yes`), at most N reviewers sharing one value of an attribute (e.g. one organization).

Solved as one MILP with scipy's HiGHS (no commercial solver): maximise total affinity with
every demand met and every hard constraint of the engine (capacity, minimum loads, no reviewer
twice on a proposal, exclusions) plus the attribute rows (rows no assignment can break are left
out: a group of one reviewer, a value shared by fewer than the cap). Large calls are solved on
a priced subset of the pairs (priced_milp.py: column generation on the LP, then the MILP on the
pairs that could matter); the result carries the proved relative gap over every pair (10k x 5k:
1M pairs, the MILP sees ~113k, gap < 1e-5). Before solving, each proposal is checked alone
(enough eligible reviewers with the attribute; enough distinct values under the caps): an
impossible one is an error naming the proposal and the constraint. The cost of a constraint
is the total lost against the same MILP without it (each one alone).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix, vstack

from matching.eligibility import eligible_pairs
from matching.errors import ImpossibleConstraintError
from matching.metrics import compute_metrics
from matching.priced_milp import PricedMilp, best_per_group
from matching.problem import IntArray, MatchingProblem, Pairs
from matching.result import MatchingResult
from matching.solve import solve

#: columns each target (and each needed attribute) starts with beyond its demand
START_EXTRA = 4


@dataclass(frozen=True)
class AtLeast:
    """Every proposal gets at least `count` reviewers whose `attribute` is `value`."""

    attribute: str
    value: str
    count: int

    def label(self) -> str:
        return f"at least {self.count} with {self.attribute}={self.value}"


@dataclass(frozen=True)
class AtMost:
    """No proposal gets more than `count` reviewers sharing one value of `attribute`."""

    attribute: str
    count: int

    def label(self) -> str:
        return f"at most {self.count} per {self.attribute}"


Constraint = AtLeast | AtMost


@dataclass(frozen=True)
class ReviewerAttributes:
    """attribute -> per reviewer (by index) its value, "" where it has none."""

    values: dict[str, list[str]]

    @classmethod
    def of(
        cls, reviewer_ids: Sequence[Hashable], rows: Sequence[tuple[Hashable, str, str]]
    ) -> ReviewerAttributes:
        """From (reviewer id, attribute, value) rows; unknown reviewers are ignored."""
        index = {r: i for i, r in enumerate(reviewer_ids)}
        values: dict[str, list[str]] = {}
        for reviewer, attribute, value in rows:
            column = values.setdefault(attribute, [""] * len(reviewer_ids))
            if reviewer in index:
                column[index[reviewer]] = value
        return cls(values)

    def codes(self, attribute: str) -> IntArray:
        """Per reviewer: a code of its value (-1 for none)."""
        column = self.values.get(attribute)
        if column is None:
            raise ImpossibleConstraintError((f"no reviewer has the attribute {attribute!r}",))
        distinct = sorted({v for v in column if v})
        code = {v: i for i, v in enumerate(distinct)}
        return np.array([code.get(v, -1) for v in column], dtype=np.int64)

    def has(self, attribute: str, value: str) -> NDArray[np.bool_]:
        column = self.values.get(attribute, [])
        return np.array([v == value for v in column], dtype=bool)


@dataclass(frozen=True)
class ConstrainedResult:
    result: MatchingResult
    #: HiGHS's proved relative gap of the final MILP (0.0: optimal)
    gap: float
    #: constraint label -> total affinity it costs alone (against the optimum without it);
    #: the seconds of the main solve are in result.metrics.solve_seconds
    costs: dict[str, float]
    #: the total without any attribute constraint
    unconstrained_total: float


def diagnose_attributes(
    problem: MatchingProblem, attributes: ReviewerAttributes, constraints: Sequence[Constraint]
) -> tuple[str, ...]:
    """Per proposal, the constraints it cannot meet whatever the others get (necessary only)."""
    pairs = eligible_pairs(problem).pairs
    n_t = len(problem.targets)
    demand = problem.targets.demand
    ids = problem.targets.ids
    out: list[str] = []
    for c in constraints:
        if isinstance(c, AtLeast):
            has = attributes.has(c.attribute, c.value)
            if not len(has):
                has = np.zeros(len(problem.reviewers), dtype=bool)
            count = np.bincount(pairs.target[has[pairs.reviewer]], minlength=n_t)
            short = np.flatnonzero((np.minimum(count, demand) < c.count) & (demand > 0))
            out += [
                f"proposal {ids[t]}: {c.label()} is impossible: {count[t]} eligible, "
                f"{demand[t]} wanted"
                for t in short.tolist()
            ]
        else:
            codes = attributes.codes(c.attribute)
            code = codes[pairs.reviewer]
            # reviewers without a value count alone (each is its own group)
            group = np.where(code >= 0, code, len(codes) + pairs.reviewer)
            width = np.int64(2 * len(codes) + 1)
            keys, per_group = np.unique(pairs.target * width + group, return_counts=True)
            most = np.bincount(keys // width, weights=np.minimum(per_group, c.count), minlength=n_t)
            short = np.flatnonzero(most < demand)
            out += [
                f"proposal {ids[t]}: {c.label()} leaves at most {int(most[t])} of "
                f"{int(demand[t])} reviewers"
                for t in short.tolist()
            ]
    return tuple(out)


def _rows(group: IntArray, n: int, cols: IntArray | None = None) -> tuple[csr_matrix, IntArray]:
    """One row per distinct value of `group` (over the columns `cols`, default all)."""
    cols = np.arange(n) if cols is None else cols
    values, row = np.unique(group, return_inverse=True)
    matrix = coo_matrix((np.ones(len(cols)), (row, cols)), shape=(len(values), n)).tocsr()
    return matrix, values.astype(np.int64)


def _crowded(key: IntArray, cols: IntArray, most: int) -> tuple[IntArray, IntArray]:
    """The columns (and their keys) of the groups with more than `most` members: a group of
    at most `most` columns cannot break an "at most `most`" row."""
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    keep = counts[inverse] > most
    return key[keep], cols[keep]


class _Rows:
    def __init__(self) -> None:
        self.blocks: list[csr_matrix] = []
        self.lower: list[NDArray[np.float64]] = []
        self.upper: list[NDArray[np.float64]] = []

    def add(self, rows: csr_matrix, lower: object, upper: object) -> None:
        self.blocks.append(rows)
        self.lower.append(np.broadcast_to(np.asarray(lower, np.float64), rows.shape[0]))
        self.upper.append(np.broadcast_to(np.asarray(upper, np.float64), rows.shape[0]))

    def model(self, score: NDArray[np.float64]) -> PricedMilp:
        return PricedMilp(
            csr_matrix(vstack(self.blocks)),
            np.concatenate(self.lower),
            np.concatenate(self.upper),
            score,
        )


def _model(
    problem: MatchingProblem,
    pairs: Pairs,
    attributes: ReviewerAttributes,
    constraints: Sequence[Constraint],
) -> tuple[PricedMilp, NDArray[np.bool_]]:
    """The MILP's rows, and the columns to start pricing from (each target's best, each
    proposal's best holders of an attribute it needs)."""
    n = len(pairs)
    demand, capacity = problem.targets.demand, problem.reviewers.capacity
    rows = _Rows()
    t_rows, t_ids = _rows(pairs.target, n)
    rows.add(t_rows, demand[t_ids], demand[t_ids])
    r_rows, r_ids = _rows(pairs.reviewer, n)
    mins = problem.reviewers.min_load
    rows.add(r_rows, 0 if mins is None else mins[r_ids], capacity[r_ids])
    proposal = problem.targets.proposal[pairs.target]
    gate, cols = _crowded(proposal * np.int64(len(capacity) + 1) + pairs.reviewer, np.arange(n), 1)
    if len(cols):  # several targets of one proposal: a reviewer on one of them only
        rows.add(_rows(gate, n, cols)[0], -np.inf, 1)
    start = best_per_group(pairs.target, pairs.score, demand + START_EXTRA)
    _, p_row = np.unique(proposal, return_inverse=True)
    for c in constraints:
        if isinstance(c, AtLeast):
            has = attributes.has(c.attribute, c.value)
            mask = has[pairs.reviewer] if len(has) else np.zeros(n, dtype=bool)
            cols = np.flatnonzero(mask)
            need = np.zeros(p_row.max() + 1 if n else 0)
            np.maximum.at(need, p_row, np.where(demand[pairs.target] > 0, c.count, 0))
            matrix = coo_matrix((np.ones(len(cols)), (p_row[cols], cols)), shape=(len(need), n))
            rows.add(matrix.tocsr(), need, np.inf)
            best = best_per_group(p_row[cols], pairs.score[cols], c.count + START_EXTRA)
            start[cols[best]] = True
        else:
            codes = attributes.codes(c.attribute)[pairs.reviewer]
            cols = np.flatnonzero(codes >= 0)
            key, cols = _crowded(
                proposal[cols] * np.int64(len(capacity) + 1) + codes[cols], cols, c.count
            )
            if len(cols):
                rows.add(_rows(key, n, cols)[0], -np.inf, c.count)
    return rows.model(pairs.score), start


def _milp(
    problem: MatchingProblem,
    pairs: Pairs,
    attributes: ReviewerAttributes,
    constraints: Sequence[Constraint],
    time_limit: float,
    hint: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.bool_] | None, float]:
    """The chosen mask over `pairs` and the proved relative gap (priced_milp.py); `hint`: more
    columns to start from (e.g. the unconstrained optimum's)."""
    model, start = _model(problem, pairs, attributes, constraints)
    if hint is not None:
        start |= hint
    outcome = model.solve(start, time_limit)
    return outcome.chosen, outcome.gap


def solve_with_attributes(
    problem: MatchingProblem,
    attributes: ReviewerAttributes,
    constraints: Sequence[Constraint],
    *,
    time_limit: float = 60.0,
    costs: bool = True,
) -> ConstrainedResult:
    """Maximum total affinity with every demand met and every constraint held (see above)."""
    started = time.perf_counter()
    impossible = diagnose_attributes(problem, attributes, constraints)
    if impossible:
        raise ImpossibleConstraintError(impossible)
    pairs = eligible_pairs(problem).pairs
    free = solve(problem, "optimal")  # exact, by min-cost flow
    base = free.metrics.total
    hint = _mask_of(pairs, free.pairs, len(problem.reviewers))
    chosen, gap = _milp(problem, pairs, attributes, constraints, time_limit, hint)
    if chosen is None:
        labels = ", ".join(c.label() for c in constraints)
        raise ImpossibleConstraintError(
            (f"no assignment meets every demand together with {labels}",)
        )
    cost: dict[str, float] = {}
    for c in constraints if costs else ():
        alone, _ = _milp(problem, pairs, attributes, (c,), time_limit, hint)
        cost[c.label()] = base - float(pairs.score[alone].sum()) if alone is not None else base
    seconds = time.perf_counter() - started
    picked = Pairs(pairs.target[chosen], pairs.reviewer[chosen], pairs.score[chosen])
    result = MatchingResult(
        problem=problem,
        algorithm="optimal+attributes",
        pairs=picked,
        shortfalls=(),
        metrics=compute_metrics(problem, picked, seconds),
    )
    return ConstrainedResult(result, gap, cost, base)


def _mask_of(pairs: Pairs, chosen: Pairs, n_reviewers: int) -> NDArray[np.bool_]:
    width = np.int64(n_reviewers)
    return np.isin(pairs.target * width + pairs.reviewer, chosen.target * width + chosen.reviewer)


def constraints_of(config: Sequence[dict[str, object]]) -> list[Constraint]:
    """A call's configuration (store: Call.attribute_constraints) as constraints:
    {"kind": "at_least", "attribute": A, "value": V, "count": N} or
    {"kind": "at_most", "attribute": A, "count": N}. A malformed entry raises ValueError
    naming its position."""
    out: list[Constraint] = []
    for i, entry in enumerate(config):
        kind, attribute, count = entry.get("kind"), entry.get("attribute"), entry.get("count")
        value = entry.get("value")
        if not isinstance(attribute, str) or not isinstance(count, int) or count < 0:
            raise ValueError(f"[{i}]: needs an attribute (text) and a count (0 or more)")
        if kind == "at_least" and isinstance(value, str):
            out.append(AtLeast(attribute, value, count))
        elif kind == "at_most":
            out.append(AtMost(attribute, count))
        else:
            raise ValueError(f"[{i}]: kind must be at_least (with a value) or at_most")
    return out
