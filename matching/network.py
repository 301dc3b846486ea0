"""The min-cost flow behind `optimal` (and the inner step of `fair`), fed arrays in bulk.

Network: source -> target (capacity = demand) -> reviewer (capacity 1) -> sink through one arc
per free slot of the reviewer. Where one proposal has several targets that share a candidate
reviewer, their arcs go through a (proposal, reviewer) gate of capacity 1 instead, so no
reviewer serves a proposal twice.

Precision: values are scaled so that the largest |value| becomes 2**32 integer cost units and
rounded, so each pair's value is exact to 2**-33 of the largest |value| (about 1.2e-10
relative); the chosen assignment is optimal for the rounded values, hence within
(assigned pairs) x 1.2e-10 x max|value| of the true optimum. Slot j of a reviewer (0-based,
counting only new assignments) costs j extra units: a tie-break far below any score difference
that makes loads as even as eligibility allows when scores are equal; it shifts the total by at
most sum(slots^2) / 2 units, i.e. below 1e-6 relative on any instance whose total exceeds
2e-4 x max|value| per reviewer.

The flow is maximised first (as many assignments as the constraints allow), then its value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from matching.errors import SolverFailedError
from matching.problem import FloatArray, IntArray, Pairs, int_array

COST_UNITS_AT_MAX = 2.0**32
SOURCE, SINK = 0, 1


@dataclass(frozen=True)
class FlowRequest:
    """Residual demand and capacity plus the eligible pairs; `value` is maximised per pair."""

    demand: IntArray
    proposal: IntArray
    capacity: IntArray
    pairs: Pairs
    value: FloatArray
    min_load: IntArray | None = None
    current_load: IntArray | None = None
    #: convex load cost: the k-th assignment of a reviewer costs load_weight x (current + k)
    load_weight: float = 0.0


@dataclass(frozen=True)
class FlowOutcome:
    chosen: NDArray[np.bool_]
    min_loads_met: bool


@dataclass
class _Network:
    tails: IntArray
    heads: IntArray
    caps: IntArray
    costs: IntArray
    pair_arcs: IntArray  # arc index of each usable pair
    usable: NDArray[np.bool_]  # which request pairs have an arc
    slot_reviewer: IntArray  # per slot arc: its reviewer
    slot_index: IntArray  # per slot arc: 0-based slot number of that reviewer
    first_slot_arc: int
    n_nodes: int


def _cost_unit(req: FlowRequest) -> float:
    top = float(np.abs(req.value).max()) if len(req.value) else 0.0
    if req.load_weight > 0:
        current = req.current_load if req.current_load is not None else 0
        top = max(top, req.load_weight * float(np.max(current + req.capacity, initial=0)))
    return COST_UNITS_AT_MAX / top if top > 0 else 1.0


def _pair_arcs(
    req: FlowRequest, unit: float
) -> tuple[IntArray, IntArray, IntArray, NDArray[np.bool_]]:
    """Arcs target -> reviewer or gate, and gate -> reviewer; returns tails, heads, costs, mask."""
    n_t, n_r = len(req.demand), len(req.capacity)
    p = req.pairs
    usable = (req.demand[p.target] > 0) & (req.capacity[p.reviewer] > 0)
    t, r = p.target[usable], p.reviewer[usable]
    gate_key = req.proposal[t] * np.int64(n_r) + r
    if len(np.unique(req.proposal)) == len(req.proposal):  # no proposal has two targets
        uniq, inverse = gate_key, np.arange(len(gate_key))
        counts = np.ones(len(gate_key), dtype=np.int64)
    else:
        uniq, inverse, counts = np.unique(gate_key, return_inverse=True, return_counts=True)
    shared = counts[inverse] > 1
    gate_of_uniq = np.cumsum(counts > 1) - 1
    gate_base = 2 + n_t + n_r
    heads = np.where(shared, gate_base + gate_of_uniq[inverse], 2 + n_t + r)
    costs = -np.rint(req.value[usable] * unit).astype(np.int64)
    gate_uniq = uniq[counts > 1]
    gate_tails = gate_base + np.arange(len(gate_uniq), dtype=np.int64)
    tails = np.concatenate([2 + t, gate_tails])
    heads = np.concatenate([heads, 2 + n_t + gate_uniq % max(n_r, 1)])
    costs = np.concatenate([costs, np.zeros(len(gate_uniq), dtype=np.int64)])
    return int_array(tails), int_array(heads), int_array(costs), usable


def _slot_arcs(
    req: FlowRequest, unit: float, degree: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """One arc per usable free slot: returns reviewer, slot index and cost of each."""
    slots = np.minimum(req.capacity, degree)
    reviewer = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
    starts = np.cumsum(slots) - slots
    index = np.arange(len(reviewer), dtype=np.int64) - np.repeat(starts, slots)
    cost = index.copy()
    if req.load_weight > 0:
        current = req.current_load[reviewer] if req.current_load is not None else 0
        cost += np.rint(req.load_weight * unit * (current + index)).astype(np.int64)
    return reviewer, index, cost


def build_network(req: FlowRequest) -> _Network:
    n_t, n_r = len(req.demand), len(req.capacity)
    unit = _cost_unit(req)
    p_tails, p_heads, p_costs, usable = _pair_arcs(req, unit)
    n_pairs = int(usable.sum())
    reviewer_heads = p_heads[p_heads < 2 + n_t + n_r]
    degree = np.bincount(reviewer_heads - 2 - n_t, minlength=n_r).astype(np.int64)
    s_rev, s_idx, s_cost = _slot_arcs(req, unit, degree)
    n_nodes = int(max(p_heads.max(initial=0), p_tails.max(initial=0), 2 + n_t + n_r - 1)) + 1
    tails = np.concatenate([np.zeros(n_t, np.int64), p_tails, 2 + n_t + s_rev])
    heads = np.concatenate([2 + np.arange(n_t, dtype=np.int64), p_heads, np.full(len(s_rev), SINK)])
    caps = np.concatenate([req.demand, np.ones(len(p_tails) + len(s_rev), np.int64)])
    costs = np.concatenate([np.zeros(n_t, np.int64), p_costs, s_cost])
    return _Network(
        int_array(tails),
        int_array(heads),
        int_array(caps),
        int_array(costs),
        pair_arcs=n_t + np.arange(n_pairs, dtype=np.int64),
        usable=usable,
        slot_reviewer=s_rev,
        slot_index=s_idx,
        first_slot_arc=n_t + len(p_tails),
        n_nodes=n_nodes,
    )


def _solve(net: _Network, supplies: dict[int, int], *, exact: bool) -> NDArray[np.bool_] | None:
    """Solve once; the chosen mask over the network's pair arcs, or None if infeasible."""
    if not len(net.tails):
        return np.zeros(0, dtype=bool)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    mcf.set_nodes_supplies(int_array(list(supplies)), int_array(list(supplies.values())))
    status = mcf.solve() if exact else mcf.solve_max_flow_with_min_cost()
    if status == mcf.OPTIMAL:
        return mcf.flows(net.pair_arcs) > 0
    if exact and status in (mcf.INFEASIBLE, mcf.UNBALANCED):
        return None
    raise SolverFailedError(f"min-cost flow ended with status {status}")


class FlowNetwork:
    """A network built once and solved for any number of per-pair value vectors."""

    def __init__(self, req: FlowRequest) -> None:
        self.req = req
        self.net = build_network(req)
        self.usable = np.flatnonzero(self.net.usable)

    def solve(self, value: FloatArray | None = None) -> FlowOutcome:
        """Maximum cardinality, then maximum total `value` (default: the request's value).

        With minimum loads, a second solve forces them as arc lower bounds at the same
        cardinality; if that is infeasible the first solution stands, `min_loads_met` False.
        """
        net = self.net
        if value is not None:
            net = self._with_values(value)
        total = int(self.req.demand.sum())
        chosen_usable = _solve(net, {SOURCE: total, SINK: -total}, exact=False)
        assert chosen_usable is not None
        met = True
        min_load = self.req.min_load
        if min_load is not None and int(min_load.sum()) > 0:
            forced = _solve_with_min_loads(net, min_load, int(chosen_usable.sum()))
            met = forced is not None
            chosen_usable = forced if forced is not None else chosen_usable
        chosen = np.zeros(len(self.req.pairs), dtype=bool)
        chosen[self.usable] = chosen_usable
        return FlowOutcome(chosen=chosen, min_loads_met=met)

    def _with_values(self, value: FloatArray) -> _Network:
        req = replace(self.req, value=value)
        if req.load_weight > 0:  # slot costs depend on the scale too
            return build_network(req)
        costs = self.net.costs.copy()
        costs[self.net.pair_arcs] = -np.rint(value[self.usable] * _cost_unit(req))
        return replace(self.net, costs=costs)


def max_value_flow(req: FlowRequest) -> FlowOutcome:
    """One solve of `req`: see FlowNetwork.solve."""
    return FlowNetwork(req).solve()


def _solve_with_min_loads(net: _Network, min_load: IntArray, flow: int) -> NDArray[np.bool_] | None:
    """Slot arcs below a reviewer's minimum get lower bound 1: capacity 0 and moved supply."""
    mandatory = net.slot_index < min_load[net.slot_reviewer]
    if int(mandatory.sum()) < int(min_load.sum()):
        return None  # some reviewer has fewer usable slots than its minimum
    caps = net.caps.copy()
    caps[net.first_slot_arc + np.flatnonzero(mandatory)] = 0
    nodes, counts = np.unique(net.tails[net.first_slot_arc :][mandatory], return_counts=True)
    supplies: dict[int, int] = {SOURCE: flow, SINK: -flow + int(counts.sum())}
    supplies.update({int(n): -int(c) for n, c in zip(nodes, counts, strict=True)})
    return _solve(replace(net, caps=caps), supplies, exact=True)
