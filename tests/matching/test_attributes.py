"""Attribute constraints: at least N with an attribute, at most N sharing a value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matching.attributes import AtLeast, AtMost, ReviewerAttributes, solve_with_attributes
from matching.errors import ImpossibleConstraintError
from matching.solve import solve
from matching.validation import find_violations
from tests.matching.problems import complete_problem
from tests.matching.test_match_cli import run, write

SENIOR = AtLeast("senior", "yes", 1)
ONE_PER_ORG = AtMost("organization", 1)


def world(seed: int) -> tuple[object, ReviewerAttributes]:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((8, 8)), 3)
    scores[:, :2] *= 0.3  # the seniors score low: optimal ignores them
    problem = complete_problem(scores, demand=2, capacity=4)
    rows = [(f"r{j}", "senior", "yes" if j < 2 else "no") for j in range(8)]
    rows += [(f"r{j}", "organization", f"org{j // 3}") for j in range(8)]
    return problem, ReviewerAttributes.of(problem.reviewers.ids, rows)


def per_proposal(result, attributes: ReviewerAttributes, attribute: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    values = attributes.values[attribute]
    out: list[list[str]] = [[] for _ in range(len(result.problem.targets))]
    for t, r in zip(result.pairs.target.tolist(), result.pairs.reviewer.tolist(), strict=True):
        out[t].append(values[r])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_every_constraint_holds_and_its_cost_is_reported(seed: int) -> None:
    problem, attributes = world(seed)
    free = solve(problem, "optimal")  # type: ignore[arg-type]
    assert any("yes" not in got for got in per_proposal(free, attributes, "senior"))
    out = solve_with_attributes(problem, attributes, [SENIOR, ONE_PER_ORG])  # type: ignore[arg-type]
    result = out.result
    assert find_violations(problem, result.pairs) == []  # type: ignore[arg-type]
    assert result.metrics.assigned == result.metrics.demand
    assert all("yes" in got for got in per_proposal(result, attributes, "senior"))
    for got in per_proposal(result, attributes, "organization"):
        assert len(got) == len(set(got))
    assert out.gap <= 1e-6
    assert out.unconstrained_total == pytest.approx(free.metrics.total)
    assert out.costs[SENIOR.label()] > 0  # it binds: optimal had a proposal without a senior
    assert out.unconstrained_total - result.metrics.total >= max(out.costs.values()) - 1e-6


def test_an_impossible_constraint_names_the_proposal_before_solving() -> None:
    problem, attributes = world(0)
    with pytest.raises(ImpossibleConstraintError) as caught:
        solve_with_attributes(problem, attributes, [AtLeast("senior", "yes", 3)])  # type: ignore[arg-type]
    assert "proposal p0: at least 3 with senior=yes is impossible: 2 eligible, 2 wanted" in str(
        caught.value
    )
    with pytest.raises(ImpossibleConstraintError, match="leaves at most"):
        solve_with_attributes(problem, attributes, [AtMost("senior", 0)])  # type: ignore[arg-type]


def test_match_with_attributes_reports_costs_and_exits_1_when_impossible(tmp_path: Path) -> None:
    scores = write(
        tmp_path / "s.csv",
        "proposal,reviewer,score\n"
        + "".join(
            f"p{p},r{r},{0.1 if r == 0 else 0.9 - 0.1 * r}\n" for p in range(3) for r in range(4)
        ),
    )
    attrs = write(
        tmp_path / "a.csv",
        "reviewer,attribute,value\nr0,senior,yes\nr1,senior,no\nr2,senior,no\nr3,senior,no\n",
    )
    base = ("--scores", str(scores), "--attributes", str(attrs), "--reviewers-per-proposal", "2")
    code, output = run(*base, "--max-load", "3", "--at-least", "senior=yes:1")
    assert code == 0, output
    document = json.loads(output[output.index("{") :])
    assert all(
        "r0" in [a["reviewer"] for a in chosen] for chosen in document["assignments"].values()
    )
    assert document["constraint_costs"]["at least 1 with senior=yes"] > 0
    code, output = run(*base, "--max-load", "3", "--at-least", "senior=yes:2")
    assert code == 1 and "proposal p0: at least 2 with senior=yes is impossible" in output
    code, output = run(*base, "--max-load", "3", "--at-least", "senior")
    assert code == 2 and "expected ATTRIBUTE=VALUE:N" in output
