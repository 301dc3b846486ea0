"""`reviewq match`: what the files may hold (zero scores, quotes, blank lines) and the errors
for constraints they make impossible; alternates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cli.csv_columns import factorize, read_columns
from cli.match import read_match_input
from tests.matching.test_match_cli import run, scores_file, write


def document(output: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(output[output.index("{") :])
    return parsed


def test_a_pair_listed_with_score_zero_is_a_candidate(tmp_path: Path) -> None:
    scores = write(tmp_path / "s.csv", "proposal,reviewer,score\np1,alice,0\np2,bob,0.0\n")
    code, output = run("--scores", str(scores), "--reviewers-per-proposal", "1", "--max-load", "1")
    assert code == 0, output
    got = document(output)
    assert got["assignments"] == {
        "p1": [{"reviewer": "alice", "score": 0.0}],
        "p2": [{"reviewer": "bob", "score": 0.0}],
    }
    assert got["unfilled"] == {}


def test_an_impossible_minimum_load_is_an_error_naming_the_reviewer(tmp_path: Path) -> None:
    # carol is listed for one proposal only: a minimum load of 2 cannot be met for her
    rows = "proposal,reviewer,score\np1,alice,1\np2,alice,1\np1,bob,1\np2,bob,1\np1,carol,0\n"
    scores = write(tmp_path / "s.csv", rows)
    args = ("--reviewers-per-proposal", "2", "--max-load", "3", "--min-load", "2")
    code, output = run("--scores", str(scores), *args)
    assert code == 1
    assert "reviewer carol: minimum load 2 cannot be met: at most 1 possible" in output
    assert "minimum loads add up to 6, more than the demand 4" in output


def test_minimum_loads_beyond_the_demand_are_an_error(tmp_path: Path) -> None:
    code, output = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--reviewers-per-proposal",
        "1",
        "--max-load",
        "3",
        "--min-load",
        "2",
    )
    assert code == 1 and "minimum loads add up to 6, more than the demand 3" in output


def test_quoted_fields_blank_lines_and_crlf_read_as_the_plain_file(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.csv", "proposal,reviewer,score\np1,alice,0.5\np2,bob,0.25\n")
    fancy = tmp_path / "b.csv"
    fancy.write_bytes(b'\xef\xbb\xbfproposal,reviewer,score\r\n"p1", alice ,0.5\r\n\r\np2,bob,0.25')
    blank = write(tmp_path / "c.csv", "proposal,reviewer,score\np1,alice,0.5\n\np2,bob,0.25\n")
    a, b, c = (read_match_input(p) for p in (plain, fancy, blank))
    assert a.proposals == b.proposals == c.proposals == ["p1", "p2"]
    assert a.reviewers == b.reviewers == c.reviewers == ["alice", "bob"]
    for other in (b, c):
        assert np.array_equal(a.scores.score, other.scores.score)
        assert np.array_equal(a.scores.reviewer, other.scores.reviewer)


def test_errors_name_the_row_after_a_blank_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "s.csv", "proposal,reviewer,score\np1,alice,1\n\np2,bob,x\n")
    code, output = run("--scores", str(bad), "--reviewers-per-proposal", "1", "--max-load", "1")
    assert code == 2 and "row 4, column 'score': 'x' is not a number" in output
    short = write(tmp_path / "t.csv", "proposal,reviewer,score\np1,alice\n")
    code, output = run("--scores", str(short), "--reviewers-per-proposal", "1", "--max-load", "1")
    assert code == 2 and "row 2: 2 fields, the header has 3" in output


def test_ids_sort_as_python_sorts_strings_long_or_short(tmp_path: Path) -> None:
    ids = ["zeta", "b", "reviewer-with-a-long-name-2", "reviewer-with-a-long-name-10", "é", "a"]
    path = write(tmp_path / "ids.csv", "id\n" + "\n".join(ids) + "\n")
    values, [codes] = factorize(read_columns(path, ("id",)).text("id"))
    assert values == sorted(set(ids))
    assert [values[c] for c in codes.tolist()] == ids


def test_alternates_are_the_best_eligible_reviewers_not_chosen(tmp_path: Path) -> None:
    conflicts = write(tmp_path / "coi.csv", "proposal,reviewer\np2,bob\n")
    code, output = run(
        "--scores",
        str(scores_file(tmp_path)),
        "--conflicts",
        str(conflicts),
        "--reviewers-per-proposal",
        "1",
        "--max-load",
        "1",
        "--alternates",
        "2",
    )
    assert code == 0, output
    got = document(output)
    for proposal, alternates in got["alternates"].items():
        chosen = {a["reviewer"] for a in got["assignments"][proposal]}
        names = [a["reviewer"] for a in alternates]
        assert len(names) == 2 - (proposal == "p2") and not chosen & set(names)
        scores = [a["score"] for a in alternates]
        assert scores == sorted(scores, reverse=True)
    assert "bob" not in [a["reviewer"] for a in got["alternates"]["p2"]]
