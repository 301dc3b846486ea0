"""`reviewq match` on CSV files, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from cli.match import match_command

# The command alone, so that these tests do not depend on every other command importing.
app = typer.Typer()
app.command(name="match")(match_command)
app.command(name="noop")(lambda: None)  # two commands: typer keeps "match" as a subcommand
runner = CliRunner()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def scores_file(tmp_path: Path) -> Path:
    rows = ["proposal,reviewer,score"]
    for p in ("p1", "p2", "p3"):
        for r, base in (("alice", 0.9), ("bob", 0.6), ("carol", 0.3)):
            rows.append(f"{p},{r},{base - 0.1 * int(p[1])}")
    return write(tmp_path / "scores.csv", "\n".join(rows) + "\n")


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["match", *args])
    return result.exit_code, result.output


def test_match_writes_assignments_unfilled_and_metrics(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code, _ = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--reviewers-per-proposal",
        "2",
        "--max-load",
        "2",
        "--out",
        str(out),
    )
    assert code == 0
    document = json.loads(out.read_text())
    assert set(document) == {"assignments", "unfilled", "metrics"}
    assert sum(len(v) for v in document["assignments"].values()) == 6
    assert document["unfilled"] == {}
    assert {"total", "min_proposal_score", "solve_seconds"} <= set(document["metrics"])
    first = document["assignments"]["p1"][0]
    assert set(first) == {"reviewer", "score"}


def test_match_honours_conflicts_and_names_the_unfilled_reason(tmp_path: Path) -> None:
    conflicts = write(tmp_path / "coi.csv", "proposal,reviewer\np1,alice\np1,bob\np1,carol\n")
    code, output = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--conflicts",
        str(conflicts),
        "--reviewers-per-proposal",
        "1",
        "--max-load",
        "3",
    )
    assert code == 0
    document = json.loads(output[output.index("{") :])
    assert document["assignments"]["p1"] == []
    assert document["unfilled"] == {"p1": "conflict of interest"}


def test_every_algorithm_can_be_chosen(tmp_path: Path) -> None:
    for algorithm in ("greedy", "optimal", "fair"):
        code, output = run(
            "--scores",
            str(scores_file(tmp_path)),
            "--reviewers-per-proposal",
            "1",
            "--max-load",
            "1",
            "--algorithm",
            algorithm,
        )
        assert code == 0, output
        assert json.loads(output[output.index("{") :])["metrics"]["algorithm"] == algorithm


def test_a_bad_score_names_the_file_row_and_column(tmp_path: Path) -> None:
    bad = write(tmp_path / "s.csv", "proposal,reviewer,score\np1,alice,0.5\np1,bob,high\n")
    code, output = run("--scores", str(bad), "--reviewers-per-proposal", "1", "--max-load", "1")
    assert code != 0
    assert "s.csv, row 3, column 'score': 'high' is not a number" in output


def test_a_missing_column_and_a_repeated_pair_are_errors(tmp_path: Path) -> None:
    no_score = write(tmp_path / "a.csv", "proposal,reviewer\np1,alice\n")
    code, output = run(
        "--scores", str(no_score), "--reviewers-per-proposal", "1", "--max-load", "1"
    )
    assert code != 0 and "missing column(s) score" in output
    twice = write(tmp_path / "b.csv", "proposal,reviewer,score\np1,alice,1\np1,alice,2\n")
    code, output = run("--scores", str(twice), "--reviewers-per-proposal", "1", "--max-load", "1")
    assert code != 0 and "row 3" in output and "repeats row 2" in output


def test_an_empty_cell_in_the_conflicts_file_is_an_error(tmp_path: Path) -> None:
    conflicts = write(tmp_path / "c.csv", "proposal,reviewer\np1,\n")
    code, output = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--conflicts",
        str(conflicts),
        "--reviewers-per-proposal",
        "1",
        "--max-load",
        "1",
    )
    assert code != 0 and "c.csv, row 2, column 'reviewer': empty" in output


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    code, output = run(
        "--scores", str(tmp_path / "nope.csv"), "--reviewers-per-proposal", "1", "--max-load", "1"
    )
    assert code != 0 and "nope.csv: cannot read" in output


def test_match_is_registered_on_the_reviewq_app() -> None:
    from cli.app import app as reviewq

    result = runner.invoke(reviewq, ["match", "--help"])
    assert result.exit_code == 0 and "reviewq match" in result.output


def test_min_load_gives_every_reviewer_work(tmp_path: Path) -> None:
    code, output = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--reviewers-per-proposal",
        "1",
        "--max-load",
        "3",
        "--min-load",
        "1",
    )
    assert code == 0, output
    document = json.loads(output[output.index("{") :])
    reviewers = [a["reviewer"] for chosen in document["assignments"].values() for a in chosen]
    assert sorted(reviewers) == ["alice", "bob", "carol"]
