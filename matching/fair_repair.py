"""Local repair for `fair`: raise the worst-off proposal by swaps and two-step chains.

Works where each proposal is one target (a call's proposals). A move replaces one reviewer of
the worst proposal p by a better one: either a reviewer with room, or one taken from another
proposal q that gets a replacement (a reviewer with room, or the one p let go). A move is made
only if both p and q end strictly above p's old score and the total stays above the floor, so
the sorted vector of proposal scores rises lexicographically and the search terminates.

Minimum loads hold throughout: a reviewer at its floor (its minimum load, or its load at the
start if that is lower) is let go only to the proposal that gives it up in exchange, so its
load never drops. `polish` then raises the total by the same kind of moves while no proposal
falls below a given score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.problem import FloatArray, IntArray, Pairs

Move = tuple[float, int, int, int, int, int]  # (new min, p, r_out, r_in, q, q_in)


@dataclass
class _State:
    options: list[dict[int, float]]  # per target: eligible reviewer -> score
    held: list[set[int]]  # per target: its reviewers
    room: list[int]  # per reviewer: free capacity
    holders: list[set[int]]  # per reviewer: targets it serves
    score: FloatArray  # per target: current score
    total: float
    floor: list[int]  # per reviewer: the load it must keep

    def can_free(self, r: int) -> bool:
        """Whether reviewer r may lose one assignment (its load stays at or above its floor)."""
        return len(self.holders[r]) > self.floor[r]


def _state(
    pairs: Pairs,
    chosen: NDArray[np.bool_],
    capacity: IntArray,
    offset: FloatArray,
    min_load: IntArray | None,
) -> _State:
    n_t, n_r = len(offset), len(capacity)
    options: list[dict[int, float]] = [{} for _ in range(n_t)]
    for t, r, s in zip(
        pairs.target.tolist(), pairs.reviewer.tolist(), pairs.score.tolist(), strict=True
    ):
        options[t][r] = s
    held: list[set[int]] = [set() for _ in range(n_t)]
    holders: list[set[int]] = [set() for _ in range(n_r)]
    room = capacity.tolist()
    for t, r in zip(pairs.target[chosen].tolist(), pairs.reviewer[chosen].tolist(), strict=True):
        held[t].add(r)
        holders[r].add(t)
        room[r] -= 1
    score = offset + np.bincount(pairs.target[chosen], weights=pairs.score[chosen], minlength=n_t)
    loads = [len(h) for h in holders]
    mins = [0] * n_r if min_load is None else min_load.tolist()
    floor = [min(m, load) for m, load in zip(mins, loads, strict=True)]
    total = float(pairs.score[chosen].sum())
    return _State(options, held, room, holders, score, total, floor)


def _best_replacement(state: _State, q: int, freed: int) -> tuple[float, int]:
    """q's best new reviewer once `freed` is let go by p: one with room, or `freed` itself
    (the only choice when `freed` is at its floor)."""
    if not state.can_free(freed):
        if freed in state.options[q] and freed not in state.held[q]:
            return state.options[q][freed], freed
        return -np.inf, -1
    best, best_r = -np.inf, -1
    for r2, s2 in state.options[q].items():
        if r2 not in state.held[q] and (state.room[r2] > 0 or r2 == freed) and s2 > best:
            best, best_r = s2, r2
    return best, best_r


def _best_move(state: _State, p: int) -> Move | None:
    old = float(state.score[p])
    best: Move | None = None
    for r_out in sorted(state.held[p]):
        base = old - state.options[p][r_out]
        for r_in, s_in in state.options[p].items():
            new_p = base + s_in
            if r_in in state.held[p] or new_p <= old or (best and new_p <= best[0]):
                continue
            if state.room[r_in] > 0 and state.can_free(r_out):
                best = (new_p, p, r_out, r_in, -1, -1)
                continue
            for q in sorted(state.holders[r_in]):
                s_rep, r_rep = _best_replacement(state, q, r_out)
                new_q = float(state.score[q]) - state.options[q][r_in] + s_rep
                worst = min(new_p, new_q)
                if r_rep >= 0 and worst > old and (best is None or worst > best[0]):
                    best = (worst, p, r_out, r_in, q, r_rep)
    return best


def _apply(state: _State, move: Move) -> None:
    _, p, r_out, r_in, q, q_in = move
    _reassign(state, p, r_out, r_in)
    if q >= 0:
        _reassign(state, q, r_in, q_in)


def _reassign(state: _State, t: int, r_out: int, r_in: int) -> None:
    state.held[t].remove(r_out)
    state.holders[r_out].discard(t)
    state.room[r_out] += 1
    state.held[t].add(r_in)
    state.holders[r_in].add(t)
    state.room[r_in] -= 1
    delta = state.options[t][r_in] - state.options[t][r_out]
    state.score[t] += delta
    state.total += delta


def repair(
    pairs: Pairs,
    chosen: NDArray[np.bool_],
    capacity: IntArray,
    offset: FloatArray,
    wanted: NDArray[np.bool_],
    *,
    total_floor: float,
    deadline: float,
    min_load: IntArray | None = None,
) -> NDArray[np.bool_]:
    """Raise the minimum target score by local moves; returns the new chosen mask."""
    state = _state(pairs, chosen, capacity, offset, min_load)
    masked = np.where(wanted, state.score, np.inf)
    while time.perf_counter() < deadline and len(masked) and np.isfinite(masked.min()):
        p = int(np.argmin(masked))
        move = _best_move(state, p)
        if move is None:
            break
        before = state.total
        _apply(state, move)
        if state.total < total_floor:
            _undo(state, move)
            state.total = before
            break
        masked = np.where(wanted, state.score, np.inf)
    return _mask(state, pairs)


def _mask(state: _State, pairs: Pairs) -> NDArray[np.bool_]:
    held = {(t, r) for t, rs in enumerate(state.held) for r in rs}
    return np.fromiter(
        (
            (t, r) in held
            for t, r in zip(pairs.target.tolist(), pairs.reviewer.tolist(), strict=True)
        ),
        dtype=bool,
        count=len(pairs),
    )


def _undo(state: _State, move: Move) -> None:
    _, p, r_out, r_in, q, q_in = move
    if q >= 0:
        _reassign(state, q, q_in, r_in)
    _reassign(state, p, r_in, r_out)


def _best_gain(state: _State, p: int, keep: float) -> Move | None:
    """The move raising the total most that leaves p and the proposal it takes from >= keep."""
    best: Move | None = None
    for r_out in sorted(state.held[p]):
        s_out = state.options[p][r_out]
        for r_in, s_in in state.options[p].items():
            gain = s_in - s_out
            if r_in in state.held[p] or gain <= 1e-12 or (best and gain <= best[0]):
                continue
            if state.room[r_in] > 0 and state.can_free(r_out):
                best = (gain, p, r_out, r_in, -1, -1)
                continue
            for q in sorted(state.holders[r_in]):
                s_rep, r_rep = _best_replacement(state, q, r_out)
                loss = state.options[q][r_in] - s_rep
                new_q = float(state.score[q]) - loss
                net = gain - loss
                if r_rep >= 0 and new_q >= keep and net > 1e-12 and (best is None or net > best[0]):
                    best = (net, p, r_out, r_in, q, r_rep)
    return best


def polish(
    pairs: Pairs,
    chosen: NDArray[np.bool_],
    capacity: IntArray,
    offset: FloatArray,
    wanted: NDArray[np.bool_],
    *,
    keep: float,
    deadline: float,
    min_load: IntArray | None = None,
) -> NDArray[np.bool_]:
    """Raise the total by local moves while every wanted target scores at least `keep`
    (its current score if lower: nobody is made worse off below `keep`)."""
    state = _state(pairs, chosen, capacity, offset, min_load)
    floor_of = np.minimum(state.score, keep)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for p in np.flatnonzero(wanted).tolist():
            move = _best_gain(state, p, keep)
            if move is not None and (move[4] < 0 or float(floor_of[move[4]]) >= keep - 1e-12):
                _apply(state, move)
                improved = True
            if time.perf_counter() >= deadline:
                break
    return _mask(state, pairs)
