"""`optimal`: exact maximum total affinity under every hard constraint, one min-cost flow."""

from __future__ import annotations

import numpy as np

from matching.network import FlowRequest, max_value_flow
from matching.problem import int_array
from matching.residual import Residual, SolverOutput

MIN_LOADS_UNMET = "minimum loads cannot all be met together with maximum coverage; ignored"


def flow_request(residual: Residual, value: object = None) -> FlowRequest:
    """The flow input for `residual`, maximising `value` per pair (default: the score)."""
    reviewers = residual.problem.reviewers
    min_load = None
    if reviewers.min_load is not None:
        held = np.bincount(residual.fixed.reviewer, minlength=len(reviewers))
        wanted = np.maximum(reviewers.min_load - held, 0)
        min_load = int_array(np.minimum(wanted, residual.capacity))
    pairs = residual.pairs
    return FlowRequest(
        demand=residual.demand,
        proposal=residual.proposal,
        capacity=residual.capacity,
        pairs=pairs,
        value=pairs.score if value is None else np.asarray(value, dtype=np.float64),
        min_load=min_load,
        current_load=reviewers.current_load,
        load_weight=residual.options.load_weight,
    )


def solve_optimal(residual: Residual) -> SolverOutput:
    """The most assignments possible, and among those the highest total affinity (exact).

    Minimum loads are honoured when they are compatible with maximum coverage.
    """
    outcome = max_value_flow(flow_request(residual))
    warnings = () if outcome.min_loads_met else (MIN_LOADS_UNMET,)
    return SolverOutput(outcome.chosen, warnings)
