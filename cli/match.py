"""`reviewq match`: the matching engine alone on CSV files, like the command-line matchers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import typer

from cli.csv_columns import ByteArray, Columns, CsvError, factorize, read_columns
from matching import Algorithm, ImpossibleConstraintError, MatchingResult, solve
from matching.alternates import alternates
from matching.attributes import (
    AtLeast,
    AtMost,
    Constraint,
    ReviewerAttributes,
    solve_with_attributes,
)
from matching.problem import IntArray, MatchingProblem, Pairs
from matching.records import indexed_call_problem

__all__ = ["CsvError", "MatchInput", "match_command", "read_match_input", "result_json"]


@dataclass(frozen=True)
class MatchInput:
    """The files of one run, indexed: ids sorted (so row order does not matter)."""

    proposals: list[str]
    reviewers: list[str]
    scores: Pairs
    conflicts: tuple[IntArray, IntArray]

    def problem(
        self, *, reviewers_per_proposal: int, max_load: int, min_load: int
    ) -> MatchingProblem:
        return indexed_call_problem(
            self.proposals,
            self.reviewers,
            self.scores,
            self.conflicts,
            reviewers_per_proposal=reviewers_per_proposal,
            max_load=max_load,
            min_load=min_load,
        )


def _sorted_unique(
    columns: Columns, keys: IntArray, labels: tuple[ByteArray, ByteArray]
) -> IntArray:
    """The order that sorts the pairs by (proposal, reviewer), which the engine then needs
    not redo; a pair listed twice is an error naming the later row and the first one."""
    order = np.argsort(keys, kind="stable")
    same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if not len(same):
        return order.astype(np.int64)
    later = order[1:][same]
    pick = int(np.argmin(later))
    row, first = int(later[pick]), int(order[:-1][same][pick])
    pair = (labels[0][row].decode("utf-8"), labels[1][row].decode("utf-8"))
    raise CsvError(
        f"{columns.path}, row {columns.row(row)}: pair {pair} repeats row {columns.row(first)}"
    )


def read_match_input(scores: Path, conflicts: Path | None = None) -> MatchInput:
    """Read and index the score file (and the conflicts file), vectorised."""
    s = read_columns(scores, ("proposal", "reviewer", "score"))
    s_prop, s_rev, score = s.text("proposal"), s.text("reviewer"), s.numbers("score")
    c_prop: ByteArray = np.array([], dtype="S1")
    c_rev: ByteArray = np.array([], dtype="S1")
    if conflicts is not None:
        c = read_columns(conflicts, ("proposal", "reviewer"))
        c_prop, c_rev = c.text("proposal"), c.text("reviewer")
    proposals, (target, c_target) = factorize(s_prop, c_prop)
    reviewers, (reviewer, c_reviewer) = factorize(s_rev, c_rev)
    order = _sorted_unique(s, target * np.int64(len(reviewers)) + reviewer, (s_prop, s_rev))
    return MatchInput(
        proposals=proposals,
        reviewers=reviewers,
        scores=Pairs(target[order], reviewer[order], score[order]),
        conflicts=(c_target, c_reviewer),
    )


def alternates_json(result: MatchingResult, per_proposal: int) -> dict[str, Any]:
    """Proposal -> its `per_proposal` best eligible reviewers it did not get, best first."""
    found = alternates(result, per_proposal)
    t_ids, r_ids = result.problem.targets.ids, result.problem.reviewers.ids
    out: dict[str, list[dict[str, Any]]] = {str(t): [] for t in t_ids}
    for t, r, score in zip(
        found.target.tolist(), found.reviewer.tolist(), found.score.tolist(), strict=True
    ):
        out[str(t_ids[t])].append({"reviewer": str(r_ids[r]), "score": score})
    return out


def result_json(result: MatchingResult) -> dict[str, Any]:
    """The output document of interfaces.md: assignments, unfilled, metrics."""
    assignments = {
        str(p): [{"reviewer": str(r), "score": s} for r, s in chosen]
        for p, chosen in result.assignments_by_target().items()
    }
    unfilled = {str(p): reason for p, reason in result.unfilled_by_target().items()}
    metrics = {"algorithm": result.algorithm, **result.metrics.as_dict()}
    return {"assignments": assignments, "unfilled": unfilled, "metrics": metrics}


def result_text(document: dict[str, Any]) -> str:
    """`document` as indented JSON, one line per proposal: json's C encoder does each line
    (indent= would switch the whole document to the pure-Python encoder)."""
    parts = []
    for key, section in document.items():
        lines = ",\n".join(
            f"    {json.dumps(name)}: {json.dumps(value)}" for name, value in section.items()
        )
        parts.append(f"  {json.dumps(key)}: {{\n{lines}\n  }}" if lines else f'  "{key}": {{}}')
    return "{\n" + ",\n".join(parts) + "\n}"


def parse_constraints(at_least: list[str], at_most: list[str]) -> list[Constraint]:
    """`senior=yes:1` -> AtLeast, `organization:1` -> AtMost; a malformed one is an error."""
    out: list[Constraint] = []
    for text in at_least:
        head, _, count = text.rpartition(":")
        attribute, _, value = head.partition("=")
        if not (attribute and value and count.isdigit()):
            raise CsvError(f"--at-least {text!r}: expected ATTRIBUTE=VALUE:N")
        out.append(AtLeast(attribute, value, int(count)))
    for text in at_most:
        attribute, _, count = text.rpartition(":")
        if not (attribute and count.isdigit()):
            raise CsvError(f"--at-most {text!r}: expected ATTRIBUTE:N")
        out.append(AtMost(attribute, int(count)))
    return out


def read_attributes(path: Path, problem: MatchingProblem) -> ReviewerAttributes:
    """The reviewer,attribute,value file, for the reviewers of `problem`."""
    columns = read_columns(path, ("reviewer", "attribute", "value"))
    texts = [
        [v.decode("utf-8") for v in columns.text(c).tolist()]
        for c in ("reviewer", "attribute", "value")
    ]
    return ReviewerAttributes.of(problem.reviewers.ids, list(zip(*texts, strict=True)))


def _fail(message: str, code: int) -> typer.Exit:
    for line in message.splitlines():
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(code)


def match_command(
    scores: Path = typer.Option(..., "--scores", help="CSV with columns proposal,reviewer,score"),
    conflicts: Path | None = typer.Option(None, "--conflicts", help="CSV: proposal,reviewer"),
    reviewers_per_proposal: int = typer.Option(..., "--reviewers-per-proposal", min=1),
    max_load: int = typer.Option(..., "--max-load", min=0, help="most proposals per reviewer"),
    min_load: int = typer.Option(0, "--min-load", min=0, help="fewest proposals per reviewer"),
    algorithm: Algorithm = typer.Option(Algorithm.OPTIMAL, "--algorithm"),
    out: Path | None = typer.Option(None, "--out", help="write the JSON here, not stdout"),
    attributes: Path | None = typer.Option(
        None, "--attributes", help="CSV: reviewer,attribute,value (e.g. alice,senior,yes)"
    ),
    at_least: list[str] = typer.Option(
        [], "--at-least", help="ATTRIBUTE=VALUE:N: every proposal gets N such reviewers"
    ),
    at_most: list[str] = typer.Option(
        [], "--at-most", help="ATTRIBUTE:N: at most N reviewers per proposal share a value"
    ),
    n_alternates: int = typer.Option(
        0,
        "--alternates",
        min=0,
        help="also list per proposal this many best eligible reviewers it did not get",
    ),
) -> None:
    """Assign reviewers to proposals from score files; pairs not listed are not candidates.

    A listed pair is a candidate whatever its score (0 included). `--alternates N` adds
    "alternates": per proposal, the N best eligible reviewers it did not get (alternates.json).
    A constraint the input makes impossible (a minimum load) is an error naming it: exit 1;
    a bad file: exit 2.
    """
    try:
        problem = read_match_input(scores, conflicts).problem(
            reviewers_per_proposal=reviewers_per_proposal, max_load=max_load, min_load=min_load
        )
    except CsvError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        constraints = parse_constraints(at_least, at_most)
        if constraints and attributes is None:
            raise CsvError("--at-least/--at-most need --attributes")
        known = read_attributes(attributes, problem) if attributes else None
    except CsvError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        if known is not None and constraints:
            constrained = solve_with_attributes(problem, known, constraints)
            result = constrained.result
        else:
            constrained, result = None, solve(problem, algorithm, strict=True)
    except ImpossibleConstraintError as exc:
        raise _fail("\n".join(exc.messages), 1) from exc
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    body = result_json(result)
    if constrained is not None:
        body["metrics"]["gap"] = constrained.gap
        body["metrics"]["unconstrained_total"] = constrained.unconstrained_total
        body["constraint_costs"] = constrained.costs
    if n_alternates:
        body["alternates"] = alternates_json(result, n_alternates)
    document = result_text(body)
    if out is None:
        typer.echo(document)
        return
    out.write_text(document + "\n", encoding="utf-8")
    _summary(algorithm, result, out)


def _summary(algorithm: Algorithm, result: MatchingResult, out: Path) -> None:
    m = result.metrics
    typer.echo(
        f"{algorithm.value}: {m.assigned}/{m.demand} assigned, total {m.total:.4f}, "
        f"min proposal score {m.min_proposal_score:.4f}, p10 {m.p10_proposal_score:.4f}, "
        f"{len(result.shortfalls)} unfilled -> {out}",
        err=True,
    )


def match_main() -> None:
    """`reviewq match ...` as its own small typer application (see cli/entry.py)."""
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name="match")(match_command)
    single.command(name="help", hidden=True)(lambda: None)  # keeps "match" a subcommand
    single(prog_name="reviewq")
