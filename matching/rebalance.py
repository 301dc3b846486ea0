"""Even out loads without changing any target's scores: swap reviewers of equal score only.

A min-cost flow whose sources are (target, score value) groups of the given assignment, each
needing as many reviewers as it has now, among the eligible reviewers with exactly that score
for that target. Every target keeps the same multiset of scores (so every proposal score and the
total are unchanged) while the convex slot costs of network.py spread the load.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matching.eligibility import pair_keys
from matching.network import FlowRequest, max_value_flow
from matching.problem import Pairs, int_array
from matching.residual import Residual


def rebalance(residual: Residual, chosen: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The same scores per target, loads as even as equal-score alternatives allow."""
    pairs = residual.pairs
    if not chosen.any() or residual.problem.reviewers.min_load is not None:
        return chosen
    score_code = np.unique(pairs.score, return_inverse=True)[1].astype(np.int64)
    width = int(score_code.max()) + 1
    keys = pair_keys(pairs.target, score_code, width)
    groups, demand = np.unique(keys[chosen], return_counts=True)
    where = np.minimum(np.searchsorted(groups, keys), len(groups) - 1)
    usable = groups[where] == keys
    group_of_pair = where[usable]
    target_of_group = groups // width
    request = FlowRequest(
        demand=int_array(demand),
        proposal=int_array(residual.proposal[target_of_group]),
        capacity=residual.capacity,
        pairs=Pairs(int_array(group_of_pair), pairs.reviewer[usable], pairs.score[usable]),
        value=np.zeros(int(usable.sum())),
    )
    outcome = max_value_flow(request)
    if int(outcome.chosen.sum()) != int(chosen.sum()):
        return chosen  # cannot happen (the given assignment is feasible); stay safe
    balanced = np.zeros(len(pairs), dtype=bool)
    balanced[np.flatnonzero(usable)[outcome.chosen]] = True
    return balanced
