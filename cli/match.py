"""`reviewq match`: the matching engine alone on CSV files, like the command-line matchers."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import typer

from matching import Algorithm, MatchingResult, call_problem, solve


class CsvError(Exception):
    """A bad input file: the message names the file, the row and the column."""


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(row number, row) for every data row; row 1 is the header."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise CsvError(f"{path}: missing column(s) {', '.join(missing)} in the header")
            return [(number, row) for number, row in enumerate(reader, start=2)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CsvError(f"{path}: cannot read: {exc}") from exc


def _cell(path: Path, number: int, row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise CsvError(f"{path}, row {number}, column '{column}': empty")
    return value


def read_scores(path: Path) -> list[tuple[str, str, float]]:
    """(proposal, reviewer, score) rows; a pair listed twice or a non-number is an error."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for number, row in _rows(path, ("proposal", "reviewer", "score")):
        pair = (_cell(path, number, row, "proposal"), _cell(path, number, row, "reviewer"))
        text = _cell(path, number, row, "score")
        try:
            score = float(text)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise CsvError(f"{path}, row {number}, column 'score': {text!r} is not a number")
        if pair in seen:
            raise CsvError(f"{path}, row {number}: pair {pair} repeats row {seen[pair]}")
        seen[pair] = number
        out.append((*pair, score))
    return out


def read_conflicts(path: Path) -> list[tuple[str, str]]:
    rows = _rows(path, ("proposal", "reviewer"))
    return [(_cell(path, n, row, "proposal"), _cell(path, n, row, "reviewer")) for n, row in rows]


def result_json(result: MatchingResult) -> dict[str, Any]:
    """The output document of interfaces.md: assignments, unfilled, metrics."""
    assignments = {
        str(p): [{"reviewer": str(r), "score": s} for r, s in chosen]
        for p, chosen in result.assignments_by_target().items()
    }
    unfilled = {str(p): reason for p, reason in result.unfilled_by_target().items()}
    metrics = {"algorithm": result.algorithm, **result.metrics.as_dict()}
    return {"assignments": assignments, "unfilled": unfilled, "metrics": metrics}


def match_command(
    scores: Path = typer.Option(..., "--scores", help="CSV with columns proposal,reviewer,score"),
    conflicts: Path | None = typer.Option(None, "--conflicts", help="CSV: proposal,reviewer"),
    reviewers_per_proposal: int = typer.Option(..., "--reviewers-per-proposal", min=1),
    max_load: int = typer.Option(..., "--max-load", min=0, help="most proposals per reviewer"),
    min_load: int = typer.Option(0, "--min-load", min=0, help="fewest proposals per reviewer"),
    algorithm: Algorithm = typer.Option(Algorithm.OPTIMAL, "--algorithm"),
    out: Path | None = typer.Option(None, "--out", help="write the JSON here, not stdout"),
) -> None:
    """Assign reviewers to proposals from score files; pairs not listed are not candidates."""
    try:
        problem = call_problem(
            read_scores(scores),
            read_conflicts(conflicts) if conflicts else (),
            reviewers_per_proposal=reviewers_per_proposal,
            max_load=max_load,
            min_load=min_load,
        )
    except CsvError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = solve(problem, algorithm)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    document = json.dumps(result_json(result), indent=2)
    if out is None:
        typer.echo(document)
        return
    out.write_text(document + "\n", encoding="utf-8")
    m = result.metrics
    typer.echo(
        f"{algorithm.value}: {m.assigned}/{m.demand} assigned, total {m.total:.4f}, "
        f"min proposal score {m.min_proposal_score:.4f}, "
        f"{len(result.shortfalls)} unfilled -> {out}",
        err=True,
    )
