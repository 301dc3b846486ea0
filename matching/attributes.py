"""Per-proposal attribute constraints: at least N reviewers with an attribute value (e.g.
`senior=yes`), at most N reviewers sharing one value of an attribute (e.g. one organization).

Solved exactly as one MILP with scipy's HiGHS (no commercial solver): maximise total affinity
with every demand met and every hard constraint of the engine (capacity, minimum loads, no
reviewer twice on a proposal, exclusions) plus the attribute rows; the result carries HiGHS's
proved relative gap (0 when it finished). Before solving, each proposal is checked alone
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
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import coo_matrix, csr_matrix

from matching.eligibility import eligible_pairs
from matching.errors import ImpossibleConstraintError
from matching.fair_exact import run_milp
from matching.metrics import compute_metrics
from matching.problem import IntArray, MatchingProblem, Pairs
from matching.result import MatchingResult
from matching.solve import solve


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


def _rows(group: IntArray, n: int) -> tuple[csr_matrix, IntArray]:
    values, row = np.unique(group, return_inverse=True)
    matrix = coo_matrix((np.ones(n), (row, np.arange(n))), shape=(len(values), n)).tocsr()
    return matrix, values.astype(np.int64)


def _milp(
    problem: MatchingProblem,
    pairs: Pairs,
    attributes: ReviewerAttributes,
    constraints: Sequence[Constraint],
    time_limit: float,
) -> tuple[NDArray[np.bool_] | None, float]:
    n = len(pairs)
    demand, capacity = problem.targets.demand, problem.reviewers.capacity
    t_rows, t_ids = _rows(pairs.target, n)
    r_rows, r_ids = _rows(pairs.reviewer, n)
    mins = problem.reviewers.min_load
    low = np.zeros(len(r_ids)) if mins is None else mins[r_ids].astype(np.float64)
    proposal = problem.targets.proposal[pairs.target]
    g_rows, _ = _rows(proposal * np.int64(len(capacity) + 1) + pairs.reviewer, n)
    blocks = [
        LinearConstraint(t_rows, demand[t_ids], demand[t_ids]),
        LinearConstraint(r_rows, low, capacity[r_ids]),
        LinearConstraint(g_rows, 0, 1),
    ]
    for c in constraints:
        if isinstance(c, AtLeast):
            has = attributes.has(c.attribute, c.value)
            mask = has[pairs.reviewer] if len(has) else np.zeros(n, dtype=bool)
            cols = np.flatnonzero(mask)
            _, row = np.unique(proposal, return_inverse=True)
            need = np.zeros(row.max() + 1 if n else 0)
            np.maximum.at(need, row, np.where(demand[pairs.target] > 0, c.count, 0))
            rows = coo_matrix((np.ones(len(cols)), (row[cols], cols)), shape=(len(need), n))
            blocks.append(LinearConstraint(rows.tocsr(), need, np.inf))
        else:
            codes = attributes.codes(c.attribute)[pairs.reviewer]
            cols = np.flatnonzero(codes >= 0)
            key = proposal[cols] * np.int64(len(capacity) + 1) + codes[cols]
            _, row = np.unique(key, return_inverse=True)
            rows = coo_matrix(
                (np.ones(len(cols)), (row, cols)), shape=(int(row.max(initial=-1)) + 1, n)
            )
            blocks.append(LinearConstraint(rows.tocsr(), 0, c.count))
    result = run_milp(
        -pairs.score,
        constraints=blocks,
        integrality=np.ones(n),
        bounds=Bounds(np.zeros(n), np.ones(n)),
        options={"time_limit": time_limit},
    )
    if result.x is None:
        return None, float("inf")
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    return np.asarray(np.round(result.x) > 0.5), gap


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
    chosen, gap = _milp(problem, pairs, attributes, constraints, time_limit)
    if chosen is None:
        labels = ", ".join(c.label() for c in constraints)
        raise ImpossibleConstraintError(
            (f"no assignment meets every demand together with {labels}",)
        )
    base = solve(problem, "optimal").metrics.total  # exact, by min-cost flow
    cost: dict[str, float] = {}
    for c in constraints if costs else ():
        alone, _ = _milp(problem, pairs, attributes, (c,), time_limit)
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
