"""`reviewq load` and `reviewq user create` through the real command line (typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.demo.sample import sample_document
from store import CallManager, Review, User
from store.migrations import ALL_MODELS
from tasks.imports.data_file import write_csv_directory
from tasks.users import authenticate
from tests.factories import every_row, good_document


@pytest.fixture
def small_sample() -> dict[str, Any]:
    return sample_document(5, reviewers=10, proposals=16, reviews=30)


def write_json(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(document))
    return path


def test_load_prints_counts_per_array_and_a_second_load_changes_nothing(
    runner: CliRunner, tmp_path: Path, small_sample: dict[str, Any]
) -> None:
    path = write_json(tmp_path, small_sample)
    first = runner.invoke(app, ["load", str(path)])
    assert first.exit_code == 0, first.output
    assert "created" in first.stdout and "reviews" in first.stdout
    assert Review.select().count() == len(small_sample["reviews"])
    before = every_row()
    again = runner.invoke(app, ["load", str(path), "--json"])
    assert again.exit_code == 0, again.output
    counts = json.loads(again.stdout)
    assert {a: c["unchanged"] for a, c in counts.items()} == {
        a: len(records) for a, records in small_sample.items()
    }
    assert sum(c["created"] + c["updated"] for c in counts.values()) == 0
    assert every_row() == before


def test_a_bad_file_prints_every_error_to_stderr_exits_1_and_writes_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    document = good_document()
    document["reviews"].append({"external_id": "rev_2", "proposal": "p_404"})
    document["pool"][0]["max_assignments"] = "lots"
    result = runner.invoke(app, ["load", str(write_json(tmp_path, document))])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "pool[0].max_assignments: Input should be a valid integer" in lines
    assert "reviews[1].proposal: unknown proposal 'p_404'" in lines
    assert "2 error(s): nothing was loaded" in lines
    assert all(model.select().count() == 0 for model in ALL_MODELS)


def test_a_csv_directory_loads_the_same_rows_as_its_json_document(
    runner: CliRunner, tmp_path: Path, small_sample: dict[str, Any]
) -> None:
    directory = tmp_path / "csv"
    write_csv_directory(small_sample, directory)
    from_csv = runner.invoke(app, ["load", str(directory)])
    assert from_csv.exit_code == 0, from_csv.output
    loaded = every_row()
    from_json = runner.invoke(app, ["load", str(write_json(tmp_path, small_sample)), "--json"])
    assert from_json.exit_code == 0, from_json.output
    assert all(c["unchanged"] and not c["created"] for c in json.loads(from_json.stdout).values())
    assert every_row() == loaded


def test_loading_a_path_that_does_not_exist_is_a_usage_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["load", str(tmp_path / "missing.json")])
    assert result.exit_code == 2


def test_user_create_prints_the_new_token_as_its_last_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["user", "create", "root", "--email", "r@example.org", "--staff"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    user = authenticate(token)
    assert user is not None and user.username == "root" and user.is_staff
    assert token not in str(User.get().__data__)


def test_user_create_makes_a_manager_of_the_calls_named(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["load", str(write_json(tmp_path, good_document()))]).exit_code == 0
    result = runner.invoke(app, ["user", "create", "mary", "--manager-of", "call_1"])
    assert result.exit_code == 0, result.output
    mary = authenticate(result.stdout.strip().splitlines()[-1])
    assert mary is not None
    assert [link.call.external_id for link in mary.managed_call_links] == ["call_1"]


def test_user_create_refuses_an_unknown_call_or_a_taken_name_with_exit_1(
    runner: CliRunner,
) -> None:
    unknown = runner.invoke(app, ["user", "create", "mary", "--manager-of", "call_404"])
    assert unknown.exit_code == 1 and "call_404" in unknown.stderr
    assert runner.invoke(app, ["user", "create", "mary"]).exit_code == 0
    taken = runner.invoke(app, ["user", "create", "mary"])
    assert taken.exit_code == 1 and "already exists" in taken.stderr
    assert User.select().count() == 1 and CallManager.select().count() == 0
