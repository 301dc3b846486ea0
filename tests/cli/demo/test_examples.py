"""`examples/`: what cli/demo/examples.py writes, loadable as JSON and as CSV to the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peewee import Database

from cli.demo.examples import SPEC_EXAMPLE, write_examples
from store import Proposal, Reviewer, ReviewerPoolEntry
from tasks.bulk.body import parse_assign_request
from tasks.imports.data_file import read_csv_directory, read_data_file
from tasks.imports.load import load_data

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
INTERFACES = ROOT.parent / "shared" / "spec" / "interfaces.md"


def test_the_committed_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    for path in write_examples(tmp_path):
        committed = EXAMPLES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"regenerate {committed}"


def test_the_example_call_is_realistic_and_its_csv_form_is_the_same_data(db: Database) -> None:
    document = read_data_file(EXAMPLES / "call.json")
    assert len(document["reviewers"]) >= 30 and len(document["proposals"]) >= 60
    assert all(r["expertise"] for r in document["reviewers"])
    assert document["pool"] and document["conflicts"] and document["reviews"]
    assert all("token" not in user for user in document["users"])

    first = load_data(read_csv_directory(EXAMPLES / "call-csv"))
    assert first.counts["proposals"].created == len(document["proposals"])
    again = load_data(document)
    assert again.created == again.updated == 0, "the JSON file holds what its CSV form loaded"
    assert Reviewer.select().count() == len(document["reviewers"])
    assert ReviewerPoolEntry.select().count() == len(document["pool"])


def _spec_example() -> dict[str, list[dict[str, object]]]:
    text = INTERFACES.read_text(encoding="utf-8")
    block = text.split("```json", 1)[1].split("```", 1)[0]
    return dict(json.loads(block))


@pytest.mark.skipif(not INTERFACES.exists(), reason="../shared/spec is not beside this checkout")
def test_the_interfaces_example_filled_in_has_its_shape_and_loads(db: Database) -> None:
    spec = _spec_example()
    assert list(SPEC_EXAMPLE) == list(spec)
    for array, records in spec.items():
        ours = SPEC_EXAMPLE[array][0]
        assert set(records[0]) - {"token"} <= set(ours), array
    report = load_data(json.loads((EXAMPLES / "interfaces-example.json").read_text()))
    assert all(counts.created == len(SPEC_EXAMPLE[a]) for a, counts in report.counts.items())
    assert Proposal.get(Proposal.external_id == "p_1").name


def test_the_example_request_is_a_valid_seeds_004_body_over_the_example_call() -> None:
    body, _strategy = parse_assign_request(
        json.loads((EXAMPLES / "assign-request.json").read_text())
    )
    document = read_data_file(EXAMPLES / "call.json")
    reviews = {r["external_id"] for r in document["reviews"] if r["state"] == "unassigned"}
    assert set(body.reviewIds) <= reviews
