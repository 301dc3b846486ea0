"""Local repair for `fair`: raise the worst-off proposal by swaps and two-step chains.

Works where each proposal is one target (a call's proposals). A move replaces one reviewer of
the worst proposal p by a better one: either a reviewer with room, or one taken from another
proposal q that gets a replacement (a reviewer with room, or the one p let go). A move is made
only if both p and q end strictly above p's old score and the total stays above the floor, so
the sorted vector of proposal scores rises lexicographically and the search terminates.
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


def _state(
    pairs: Pairs, chosen: NDArray[np.bool_], capacity: IntArray, offset: FloatArray
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
    return _State(options, held, room, holders, score, float(pairs.score[chosen].sum()))


def _best_replacement(state: _State, q: int, freed: int) -> tuple[float, int]:
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
            if state.room[r_in] > 0:
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
) -> NDArray[np.bool_]:
    """Raise the minimum target score by local moves; returns the new chosen mask."""
    state = _state(pairs, chosen, capacity, offset)
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
