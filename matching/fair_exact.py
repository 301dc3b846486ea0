"""Exact `fair` for small calls: a bisection on the worst proposal score, one MILP a step
(scipy's HiGHS).

f(T) = the highest total affinity of an assignment in which every proposal scores at least T
(the same number of assignments as `optimal`, every hard constraint, minimum loads included).
f falls as T rises, so the best worst score that keeps the total >= the floor is the highest T
with f(T) >= floor: a bisection over T between the worst score already reached and the max-min
LP bound with the same floor. A step whose MILP reaches the floor raises the lower end to that
assignment's own worst score (at least T); a step proved short of the floor (optimal below it,
or infeasible) lowers the upper end to T, and that end stays a proved bound. "Highest total at
a fixed T" is a far easier MILP for HiGHS than "highest T" (MIDL with minimum loads: ~4 s a
step, against no solution at all in 60 s), and the answer of the last successful step is also
the highest total at its own worst score: the lexicographic answer once the ends meet.

Used only below `SolveOptions.fair_exact_max_pairs` candidate pairs and within a time limit: a
step cut short by the limit lowers the upper end without proof, and the caller keeps the
answer only if it beats its heuristic's.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from matching.problem import FloatArray, IntArray
from matching.residual import Residual

TOLERANCE = 1e-7
#: the ends of the bisection are close enough (relative to the bound)
SETTLED = 1e-6
#: ... or where the upper end is a step that ran out of time, not a proof
CLOSE = 1e-3
#: how far below the floor a total may be (solver noise)
FLOOR_SLACK = 1e-9
#: the share of the time limit for the bisection; the rest for the highest total at its end
BISECTION_SHARE = 0.9
#: the most wall time, as a multiple of the CPU budget (a starved process stops there)
WALL_FACTOR = 4.0
#: the spin that measures how busy the machine is
CALIBRATION_SECONDS = 0.05
#: a step stopped by its wall limit having had less than this share of its CPU time is run again
STARVED = 0.7
#: Steps in a row that move neither end before the search gives up (it would repeat itself).
MAX_STALLED_STEPS = 3
#: a bisection step may take this many times the slowest step that reached the floor
STEP_ALLOWANCE = 2.0
#: ... but never less than this many CPU seconds: a small call's steps take milliseconds, and
#: the proof just above the answer took 0.046 s against an allowance of 0.054 (a busy machine
#: cut it short, and the bound stayed unproved)
MIN_STEP_SECONDS = 0.25
#: ... out of what is left once this many times the slowest such step is kept back for one
#: more (MIDL with minimum loads: steps reaching the floor take 4.1 to 5.8 s, the proofs just
#: above the answer 12 to 15 s; a step cut short there must leave time for one below it)
RESERVE_FACTOR = 1.5
#: HiGHS's status codes, as scipy's milp returns them
_OPTIMAL, _INFEASIBLE = 0, 2
_LIBC = ctypes.CDLL(None)
#: a local improvement of a chosen mask (keeping every constraint and the total floor)
Lift = Callable[[NDArray[np.bool_]], NDArray[np.bool_]]


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """HiGHS's MIP code can print debug lines on the C-level stdout; keep stdout for data
    (e.g. `reviewq match` prints its JSON there) by pointing fd 1 at stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()  # HiGHS may print through Python or C stdio: flush both buffers
        _LIBC.fflush(None)  # while fd 1 still points at stderr
        os.dup2(saved, 1)
        os.close(saved)


def run_milp(cost: FloatArray, **kwargs: Any) -> Any:
    """scipy's milp with HiGHS's C-level printing kept off stdout."""
    with _stdout_to_stderr():
        return milp(cost, **kwargs)


@dataclass(frozen=True)
class ExactFair:
    """The bisection's outcome. `chosen`: the best assignment a step found at the floor (None
    if none did in time); `lower`: its worst proposal score (else the worst already reached);
    `upper`: a proved upper bound on the best worst score at the floor (`lower` when exact)."""

    chosen: NDArray[np.bool_] | None
    lower: float
    upper: float
    steps: int

    @property
    def proved(self) -> bool:
        return self.upper - self.lower <= SETTLED * max(1.0, abs(self.upper))


def _group_rows(group: IntArray, n: int) -> tuple[csr_matrix, IntArray]:
    """One row per distinct value of `group` summing its pairs; returns the rows and values."""
    values, row = np.unique(group, return_inverse=True)
    matrix = coo_matrix((np.ones(n), (row, np.arange(n))), shape=(len(values), n))
    return matrix.tocsr(), values.astype(np.int64)


class _Model:
    """The rows shared by every step: demand, loads, one reviewer per proposal at most, the
    assignment count, and per wanted proposal its score (whose lower end each step sets)."""

    def __init__(
        self,
        residual: Residual,
        offset: FloatArray,
        wanted: NDArray[np.bool_],
        count: int,
        min_load: IntArray | None,
    ) -> None:
        pairs, n = residual.pairs, len(residual.pairs)
        self.score = pairs.score
        targets, t_ids = _group_rows(pairs.target, n)
        reviewers, r_ids = _group_rows(pairs.reviewer, n)
        blocks, upper = [targets, reviewers], [residual.demand[t_ids], residual.capacity[r_ids]]
        lower = [np.full(len(t_ids), -np.inf), np.zeros(len(r_ids))]
        if min_load is not None:
            lower[1] = min_load[r_ids].astype(np.float64)
        gate = residual.proposal[pairs.target] * np.int64(len(residual.capacity) + 1)
        gates, _ = _group_rows(gate + pairs.reviewer, n)
        if gates.shape[0] < n:  # several targets of one proposal: a reviewer serves one only
            blocks.append(gates)
            upper.append(np.ones(gates.shape[0]))
            lower.append(np.full(gates.shape[0], -np.inf))
        blocks.append(csr_matrix(np.ones((1, n))))
        upper.append(np.array([count]))
        lower.append(np.array([count]))
        self.hard = LinearConstraint(
            csr_matrix(vstack(blocks)), np.concatenate(lower), np.concatenate(upper)
        )
        _, proposal = np.unique(residual.proposal, return_inverse=True)
        p_of_pair = proposal[pairs.target]
        props = np.flatnonzero(wanted)
        inside = wanted[p_of_pair]
        self.proposal_scores = coo_matrix(
            (pairs.score[inside], (np.searchsorted(props, p_of_pair[inside]), inside.nonzero()[0])),
            shape=(len(props), n),
        ).tocsr()
        self.offset = offset[props]
        self.n = n

    def worst(self, chosen: NDArray[np.bool_]) -> float:
        return float((self.offset + self.proposal_scores @ chosen.astype(np.float64)).min())

    def upper_bound(self, floor: float) -> float | None:
        """The max-min LP with the total floor (None: infeasible even fractionally)."""
        column = csr_matrix(np.ones((self.proposal_scores.shape[0], 1)))
        worst = LinearConstraint(
            csr_matrix(hstack([self.proposal_scores, -column])), -self.offset, np.inf
        )
        total = LinearConstraint(np.append(self.score, 0.0)[None, :], floor - TOLERANCE, np.inf)
        hard = LinearConstraint(
            csr_matrix(hstack([self.hard.A, csr_matrix((self.hard.A.shape[0], 1))])),
            self.hard.lb,
            self.hard.ub,
        )
        cost = np.zeros(self.n + 1)
        cost[-1] = -1.0
        bounds = Bounds(np.append(np.zeros(self.n), -np.inf), np.append(np.ones(self.n), np.inf))
        result = run_milp(cost, constraints=[hard, worst, total], bounds=bounds)
        return -float(result.fun) if result.status == _OPTIMAL else None

    def best_total(
        self, threshold: float, floor: float, time_limit: float, *, first: bool = False
    ) -> Any:
        """The MILP: highest total with every wanted proposal scoring >= `threshold`, cut off
        below `floor` (HiGHS's objective bound prunes what cannot reach it). `first`: stop at
        the first assignment that reaches the floor (a feasibility question, far quicker)."""
        constraints = [self.hard]
        if np.isfinite(threshold):
            lower = threshold - self.offset - TOLERANCE
            constraints.append(LinearConstraint(self.proposal_scores, lower, np.inf))
        options: dict[str, Any] = {
            "time_limit": max(time_limit, 0.01),
            "objective_bound": -(floor - FLOOR_SLACK),
        }
        if first:
            options["mip_max_improving_sols"] = 1
        with warnings.catch_warnings():  # scipy warns that it passes HiGHS's own options on
            warnings.simplefilter("ignore", RuntimeWarning)
            return run_milp(
                -self.score,
                constraints=constraints,
                integrality=np.ones(self.n),
                bounds=Bounds(0.0, 1.0),
                options=options,
            )


def exact_fair(
    residual: Residual,
    offset: FloatArray,
    wanted: NDArray[np.bool_],
    count: int,
    floor: float,
    time_limit: float,
    *,
    min_load: IntArray | None = None,
    at_least: float = -np.inf,
    upper: float | None = None,
    lift: Lift | None = None,
) -> ExactFair | None:
    """The lexicographic (max-min, then total) assignment by bisection, within `time_limit`
    seconds of this process's CPU time (see _Clock).

    `offset` and `wanted` are per proposal (in sorted proposal-id order); `count` is the number
    of assignments to make (that of `optimal`); `min_load` the residual minimum loads;
    `at_least` a worst score already reached at the floor (the bisection's lower end; without
    it the first step looks for any assignment at the floor); `upper` a proved upper bound
    on the worst score (without it, the max-min LP with the floor); `lift` a quick local
    improvement of each step's answer that keeps the floor (a higher lower end for the next
    step: MIDL with minimum loads, 0.636 -> 0.642 in milliseconds). None if there is nothing
    to choose or the constraints are infeasible even fractionally.
    """
    clock = _Clock(time_limit)
    if len(residual.pairs) == 0 or not wanted.any():
        return None
    model = _Model(residual, offset, wanted, count, min_load)
    bound = model.upper_bound(floor) if upper is None else upper
    if bound is None:
        return None
    search = _Bisection(model, floor, at_least, bound, clock, lift)
    search.run(BISECTION_SHARE * time_limit)
    search.finish()
    return search.outcome()


class _Clock:
    """Seconds of this process's CPU time, which a machine busy with other work does not
    shrink (the same steps get done, so the same answer comes out), turned into the wall-clock
    limits HiGHS takes by the wall/CPU ratio of the last step. The wall time stays within
    WALL_FACTOR times the budget, however starved the process."""

    def __init__(self, seconds: float) -> None:
        self.cpu_start = time.process_time()
        self.seconds = seconds
        self.wall_end = time.perf_counter() + WALL_FACTOR * seconds
        self.ratio = self._calibrated()

    @staticmethod
    def _calibrated() -> float:
        """The wall/CPU ratio now: a short spin (the first step's limit depends on it)."""
        wall, cpu = time.perf_counter(), time.process_time()
        while time.process_time() - cpu < CALIBRATION_SECONDS:
            pass
        return max(1.0, (time.perf_counter() - wall) / max(time.process_time() - cpu, 1e-3))

    def used(self) -> float:
        return time.process_time() - self.cpu_start

    def left(self, until: float) -> float:
        """CPU seconds left before `until` CPU seconds used (0 once the wall cap is past)."""
        wall_left = self.wall_end - time.perf_counter()
        return max(0.0, min(until - self.used(), wall_left / self.ratio))

    def wall(self, cpu_seconds: float) -> float:
        return cpu_seconds * self.ratio

    def step(self, run: Callable[[float], Any], cpu_seconds: float) -> tuple[Any, float]:
        """`run(wall limit)`, and the CPU seconds it took."""
        wall, cpu = time.perf_counter(), time.process_time()
        out = run(self.wall(cpu_seconds))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall > 0.05:
            self.ratio = max(1.0, wall / max(cpu, 1e-3))
        return out, cpu


@dataclass
class _Bisection:
    model: _Model
    floor: float
    lo: float  # a worst score reached at the floor (-inf: none yet)
    hi: float  # the search's upper end
    clock: _Clock
    lift: Lift | None = None
    proved: float = np.inf  # the lowest upper end that a step proved
    chosen: NDArray[np.bool_] | None = None
    steps: int = 0

    def __post_init__(self) -> None:
        self.proved = self.hi

    def settled(self) -> bool:
        """The ends have met: to SETTLED where the upper end is proved, to CLOSE where it is
        only where a step ran out of time (the answer lies between, unproved)."""
        tolerance = SETTLED if self.hi >= self.proved else CLOSE
        gap = self.hi - self.lo
        return bool(np.isfinite(self.lo)) and gap <= tolerance * max(1.0, abs(self.hi))

    def run(self, until: float) -> None:
        """Feasibility steps until `until` CPU seconds are used. One that reaches the floor is
        quick (HiGHS finds it at the root); one just past the answer is slow to prove short,
        so a step's allowance (_allowance) is bounded by the slowest successful one and keeps
        back time for a step below it."""
        slowest = 0.0
        stalled, ends = 0, (self.lo, self.hi)
        while not self.settled() and (left := self.clock.left(until)) > 0:
            if (self.lo, self.hi) == ends and self.steps:
                stalled += 1
                if stalled > MAX_STALLED_STEPS:
                    return  # the same step again and again (a degenerate call): what is, stands
            else:
                stalled, ends = 0, (self.lo, self.hi)
            threshold = (self.lo + self.hi) / 2 if np.isfinite(self.lo) else -np.inf
            allowed = self._allowance(left, slowest)
            result, took = self.clock.step(partial(self._feasible, threshold), allowed)
            self.steps += 1
            x = self._reaching(result)
            if x is not None:
                if np.isfinite(threshold):  # a step with no threshold says nothing of the rest
                    slowest = max(slowest, took)
                x = x if self.lift is None else self.lift(x)
                self.chosen, self.lo = x, max(self.model.worst(x), self.lo)
            elif result.status not in (_OPTIMAL, _INFEASIBLE) and took < STARVED * allowed:
                continue  # the machine gave the step less CPU than allowed: again, re-timed
            elif not np.isfinite(self.lo):
                return  # not even an assignment at the floor in time
            else:
                self.hi = threshold
                if result.status in (_OPTIMAL, _INFEASIBLE):
                    self.proved = min(self.proved, threshold)

    @staticmethod
    def _allowance(left: float, slowest: float) -> float:
        """A step's CPU seconds: half of `left` before any step reached the floor; then
        STEP_ALLOWANCE times the slowest that did (at least MIN_STEP_SECONDS), out of what is
        left once RESERVE_FACTOR times it is kept back for one more, so that a step cut short
        above the answer still leaves time for one below it (the last step takes all)."""
        if not slowest:
            return left / 2
        kept = RESERVE_FACTOR * slowest
        room = left - kept if left - kept >= MIN_STEP_SECONDS else left
        return min(room, max(STEP_ALLOWANCE * slowest, MIN_STEP_SECONDS))

    def _feasible(self, threshold: float, wall: float) -> Any:
        return self.model.best_total(threshold, self.floor, wall, first=True)

    def finish(self) -> None:
        """The highest total at the worst score reached (the lexicographic second stage), in
        what is left of the budget."""
        left = self.clock.left(self.clock.seconds)
        if not np.isfinite(self.lo) or left <= 0:
            return
        result, _ = self.clock.step(
            lambda wall: self.model.best_total(self.lo, self.floor, wall), left
        )
        self.steps += 1
        x = self._reaching(result)
        held = -np.inf if self.chosen is None else float(self.model.score[self.chosen].sum())
        if x is not None and float(self.model.score[x].sum()) > held:
            self.chosen = x
            self.lo = max(self.model.worst(x), self.lo)

    def _reaching(self, result: Any) -> NDArray[np.bool_] | None:
        if result.x is None:
            return None
        x = np.asarray(np.round(result.x) > 0.5)
        return x if float(self.model.score[x].sum()) >= self.floor - FLOOR_SLACK else None

    def outcome(self) -> ExactFair:
        return ExactFair(self.chosen, self.lo, max(self.proved, self.lo), self.steps)
