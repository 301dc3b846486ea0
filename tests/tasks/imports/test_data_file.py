"""The data file's records, their validation and the CSV directory reader (no database)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from store.enums import Proficiency, ReviewState
from tasks.errors import DataFileError, RecordError
from tasks.imports.data_file import (
    parse_document,
    read_csv_directory,
    read_data_file,
    write_csv_directory,
)
from tests.factories import good_document


def errors_of(document: dict[str, Any]) -> set[tuple[str, int | None, str]]:
    _, errors = parse_document(document)
    return {(e.array, e.index, e.field) for e in errors}


def test_a_file_with_a_valid_record_in_every_array_has_no_errors() -> None:
    parsed, errors = parse_document(good_document())
    assert errors == []
    assert parsed.reviewers[0][1].expertise[0].proficiency is Proficiency.EXPERT
    assert parsed.calls[0][1].config.reviewers_per_proposal == 2
    assert parsed.calls[0][1].config.assignment_expiration_days == 7
    assert parsed.reviews[0][1].state is ReviewState.UNASSIGNED


def test_validation_is_strict_strings_are_not_numbers_and_numbers_are_not_booleans() -> None:
    document = good_document()
    document["pool"][0]["max_assignments"] = "5"
    document["users"][0]["is_staff"] = 1
    assert errors_of(document) == {("pool", 0, "max_assignments"), ("users", 0, "is_staff")}


def test_unknown_fields_and_unknown_arrays_are_named() -> None:
    document = good_document()
    document["reviews"][0]["colour"] = "red"
    document["reviewerz"] = []
    assert errors_of(document) == {("reviews", 0, "colour"), ("reviewerz", None, "")}


def test_scores_outside_zero_to_one_and_unknown_enum_values_are_rejected() -> None:
    document = good_document()
    document["affinities"][0]["score"] = 1.2
    document["reviewers"][0]["expertise"][0]["proficiency"] = "guru"
    document["conflicts"][0]["status"] = "ignored"
    assert errors_of(document) == {
        ("affinities", 0, "score"),
        ("reviewers", 0, "expertise.0.proficiency"),
        ("conflicts", 0, "status"),
    }


@pytest.mark.parametrize("email", ["ada", "ada@localhost", "@example.org", "a da@example.org"])
def test_malformed_email_addresses_are_rejected(email: str) -> None:
    document = good_document()
    document["reviewers"][0]["email"] = email
    assert errors_of(document) == {("reviewers", 0, "email")}


def test_a_review_in_review_needs_a_reviewer_and_an_unassigned_one_has_none() -> None:
    document = good_document()
    document["reviews"] = [
        {"external_id": "rev_1", "proposal": "p_1", "state": "in_review"},
        {"external_id": "rev_2", "proposal": "p_1", "reviewer": "user_001"},
        {"external_id": "rev_3", "proposal": "p_1", "reviewer": "user_001", "state": "in_review"},
    ]
    assert errors_of(document) == {("reviews", 0, "reviewer"), ("reviews", 1, "reviewer")}


def test_records_others_refer_to_need_an_external_id_or_a_uuid() -> None:
    document = good_document()
    del document["proposals"][0]["external_id"]
    assert errors_of(document) == {("proposals", 0, "external_id")}
    document["proposals"][0]["uuid"] = "7e0d1c52-8d0e-4c55-9b7e-5c1e7c0b2a11"
    assert errors_of(document) == set()


def test_duplicate_identities_within_an_array_are_named_at_the_later_record() -> None:
    document = good_document()
    document["reviews"].append(dict(document["reviews"][0]))
    document["users"].append({"external_id": "u_other", "username": "admin"})
    assert errors_of(document) == {("reviews", 1, "external_id"), ("users", 1, "username")}


def test_every_bad_record_is_named_not_only_the_first() -> None:
    document = good_document()
    document["reviews"] = [
        {"external_id": f"rev_{n}", "proposal": "p_1", "priority": "asap" if n % 10 else "high"}
        for n in range(50)
    ]
    bad = {("reviews", n, "priority") for n in range(50) if n % 10}
    assert errors_of(document) == bad


def test_a_record_error_reads_as_array_index_field_and_message() -> None:
    assert str(RecordError("reviews", 3, "priority", "bad")) == "reviews[3].priority: bad"
    assert str(RecordError("foo", None, "", "unknown array")) == "foo: unknown array"
    assert str(RecordError("", None, "", "not JSON")) == "not JSON"


def test_reading_a_file_that_is_not_json_raises_a_data_file_error(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{not json")
    with pytest.raises(DataFileError) as raised:
        read_data_file(path)
    assert "not JSON" in str(raised.value.errors[0])


def test_a_json_file_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(good_document()))
    assert read_data_file(path) == good_document()


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_cells_are_typed_by_their_column(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "reviewers.csv",
        [
            {
                "external_id": "user_001",
                "name": "Ada",
                "email": "ada@example.org",
                "expertise": "graph theory:expert; optimisation:basic",
                "available_for_reviews": "no",
                "user": "",
            },
        ],
    )
    write_csv(
        tmp_path / "proposals.csv",
        [
            {
                "external_id": "p_1",
                "call": "call_1",
                "name": "P",
                "keywords": '["a;b", "c"]',
                "state": "submitted",
            },
            {
                "external_id": "p_2",
                "call": "call_1",
                "name": "Q",
                "keywords": "x; y ;",
                "state": "",
            },
        ],
    )
    write_csv(
        tmp_path / "calls.csv",
        [
            {
                "external_id": "call_1",
                "name": "C",
                "managers": "u_1;u_2",
                "config": '{"reviewers_per_proposal": 2}',
            },
        ],
    )
    write_csv(
        tmp_path / "pool.csv", [{"call": "call_1", "reviewer": "user_001", "max_assignments": "7"}]
    )
    document = read_csv_directory(tmp_path)
    assert document["reviewers"][0] == {
        "external_id": "user_001",
        "name": "Ada",
        "email": "ada@example.org",
        "expertise": [
            {"keyword": "graph theory", "proficiency": "expert"},
            {"keyword": "optimisation", "proficiency": "basic"},
        ],
        "available_for_reviews": False,
    }
    assert document["proposals"][0]["keywords"] == ["a;b", "c"]
    assert document["proposals"][1] == {
        "external_id": "p_2",
        "call": "call_1",
        "name": "Q",
        "keywords": ["x", "y"],
    }
    assert document["calls"][0]["managers"] == ["u_1", "u_2"]
    assert document["calls"][0]["config"] == {"reviewers_per_proposal": 2}
    assert document["pool"][0]["max_assignments"] == 7
    assert parse_document(document)[1] == []


def test_a_csv_cell_that_cannot_be_typed_is_named_by_validation(tmp_path: Path) -> None:
    write_csv(tmp_path / "pool.csv", [{"call": "c", "reviewer": "r", "max_assignments": "many"}])
    write_csv(
        tmp_path / "reviewers.csv",
        [{"external_id": "r", "name": "R", "email": "r@example.org", "expertise": "logic"}],
    )
    assert errors_of(read_csv_directory(tmp_path)) == {
        ("pool", 0, "max_assignments"),
        ("reviewers", 0, "expertise.0.proficiency"),
    }


def test_a_csv_directory_holds_the_same_records_as_the_json_document(tmp_path: Path) -> None:
    from cli.demo.sample import sample_document

    document = sample_document(3, reviewers=12, proposals=20, reviews=30)
    document["proposals"][0]["keywords"] = ["semi;colon", "[bracketed]"]  # written as JSON
    document["reviewers"][0]["expertise"] = [{"keyword": "a;b", "proficiency": "expert"}]
    written = write_csv_directory(document, tmp_path)
    assert {path.stem for path in written} == {name for name, rows in document.items() if rows}
    from_json, json_errors = parse_document(document)
    from_csv, csv_errors = parse_document(read_csv_directory(tmp_path))
    assert json_errors == csv_errors == []
    assert from_csv == from_json
