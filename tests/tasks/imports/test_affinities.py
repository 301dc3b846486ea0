"""Affinities computed from text for a call, stored as computed rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from peewee import Database
from typer.testing import CliRunner

import tasks.imports.affinities as affinities_module
from cli.app import app
from store import Affinity, AssignmentBatch, AssignmentItem, Call, Proposal, Reviewer
from store.enums import AffinitySource
from tasks.batches.generate import generate_assignments
from tasks.errors import NotFound, ValidationFailed
from tasks.imports.affinities import call_has_affinities, compute_call_affinities
from tests.factories import (
    make_affinity,
    make_call,
    make_computed_affinity,
    make_expert,
    make_proposal,
    make_user,
)


@dataclass
class World:
    """A call on two unrelated topics, a specialist of each and a reviewer with no profile."""

    call: Call
    graphs: Proposal
    soils: Proposal
    ecologist: Reviewer
    ml_expert: Reviewer
    blank: Reviewer


def build_world() -> World:
    call = make_call(reviewers_per_proposal=1)
    graphs = make_proposal(
        call,
        name="Graph neural networks for protein folding",
        summary="Message passing over residue contact graphs predicts folding pathways.",
        keywords=["graph neural networks", "protein folding"],
    )
    soils = make_proposal(
        call,
        name="Soil microbiome of alpine meadows",
        summary="Sampling meadow soils along an altitude gradient to map microbial diversity.",
        keywords=["soil microbiome", "alpine ecology"],
    )
    # with equal scores the engine would give the graphs proposal to the ecologist
    ml_expert = make_expert(
        call,
        {"graph neural networks": "expert", "protein folding": "familiar"},
        "Machine learning on molecular graphs, message passing and folding.",
        max_assignments=1,
    )
    ecologist = make_expert(
        call,
        {"soil microbiome": "expert", "alpine ecology": "familiar"},
        "Field ecologist working on alpine soils and their microbial diversity.",
        max_assignments=1,
    )
    blank = make_expert(call, {}, max_assignments=1)
    return World(call, graphs, soils, ecologist, ml_expert, blank)


@pytest.fixture
def world(db: Database) -> World:
    return build_world()


def stored(call: Call) -> dict[tuple[int, int], tuple[float, AffinitySource]]:
    """(reviewer id, proposal id) -> (score, source) of every Affinity row of the call."""
    rows = Affinity.select().where(Affinity.call == call.id)
    return {(a.reviewer_id, a.proposal_id): (a.score, a.source) for a in rows}


def snapshot(call: Call) -> list[tuple[Any, ...]]:
    query = Affinity.select(Affinity.id, Affinity.score, Affinity.source, Affinity.modified)
    return sorted(query.where(Affinity.call == call.id).tuples())


def test_each_scoring_pair_is_stored_as_a_computed_row(world: World) -> None:
    report = compute_call_affinities(str(world.call.uuid))
    rows = stored(world.call)
    assert set(rows) == {
        (world.ml_expert.id, world.graphs.id),
        (world.ecologist.id, world.soils.id),
    }
    assert {source for _, source in rows.values()} == {AffinitySource.COMPUTED}
    assert all(0.5 < score <= 1.0 for score, _ in rows.values())
    assert (report.proposals, report.reviewers, report.pairs_computed) == (2, 3, 2)
    assert (report.inserted, report.updated, report.deleted, report.imported_kept) == (2, 0, 0, 0)
    assert call_has_affinities(world.call.id)


def test_the_call_may_be_named_by_its_external_id(db: Database) -> None:
    call = make_call(external_id="call_aff")
    make_proposal(call, name="Alpine soils", keywords=["soil microbiome"])
    make_expert(call, {"soil microbiome": "expert"})
    assert compute_call_affinities("call_aff").inserted == 1


def test_imported_affinities_are_kept_as_they_are(world: World) -> None:
    make_affinity(world.call, world.ml_expert, world.graphs, 0.05)
    report = compute_call_affinities(str(world.call.uuid))
    rows = stored(world.call)
    assert rows[(world.ml_expert.id, world.graphs.id)] == (0.05, AffinitySource.IMPORTED)
    assert rows[(world.ecologist.id, world.soils.id)][1] == AffinitySource.COMPUTED
    assert (report.inserted, report.updated, report.imported_kept) == (1, 0, 1)


def test_an_imported_row_the_read_missed_is_not_overwritten_by_the_upsert(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_affinity(world.call, world.ml_expert, world.graphs, 0.05)
    empty = affinities_module._stored_rows(make_call())
    monkeypatch.setattr(affinities_module, "_stored_rows", lambda call: empty)
    compute_call_affinities(str(world.call.uuid))
    rows = stored(world.call)
    assert rows[(world.ml_expert.id, world.graphs.id)] == (0.05, AffinitySource.IMPORTED)
    assert rows[(world.ecologist.id, world.soils.id)][1] == AffinitySource.COMPUTED


def test_a_second_run_changes_nothing(world: World) -> None:
    compute_call_affinities(str(world.call.uuid))
    before = snapshot(world.call)
    again = compute_call_affinities(str(world.call.uuid))
    assert snapshot(world.call) == before
    assert (again.inserted, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 2)


def test_a_stale_computed_score_is_updated(world: World) -> None:
    make_computed_affinity(world.call, world.ml_expert, world.graphs, 0.01)
    report = compute_call_affinities(str(world.call.uuid))
    score, source = stored(world.call)[(world.ml_expert.id, world.graphs.id)]
    assert score > 0.5 and source == AffinitySource.COMPUTED
    assert (report.inserted, report.updated) == (1, 1)


def test_pairs_that_drop_to_zero_are_removed_and_imported_ones_stay(world: World) -> None:
    make_affinity(world.call, world.blank, world.soils, 0.3)
    compute_call_affinities(str(world.call.uuid))
    Reviewer.update(expertise=[], biography="").where(Reviewer.id == world.ecologist.id).execute()
    report = compute_call_affinities(str(world.call.uuid))
    assert set(stored(world.call)) == {
        (world.ml_expert.id, world.graphs.id),
        (world.blank.id, world.soils.id),
    }
    assert (report.deleted, report.unchanged, report.imported_kept) == (1, 1, 1)


def test_top_per_proposal_and_threshold_limit_the_rows(world: World) -> None:
    for reviewer, level in ((world.blank, "basic"), (world.ecologist, "basic")):
        expertise = [{"keyword": "protein folding", "proficiency": level}]
        Reviewer.update(expertise=expertise).where(Reviewer.id == reviewer.id).execute()
    top = compute_call_affinities(str(world.call.uuid), top_per_proposal=1)
    assert top.pairs_computed == 2
    assert len(stored(world.call)) == 2
    everything = compute_call_affinities(str(world.call.uuid))
    assert everything.pairs_computed > 2 and everything.inserted == everything.pairs_computed - 2
    high = compute_call_affinities(str(world.call.uuid), threshold=0.5)
    assert high.deleted == everything.pairs_computed - high.pairs_computed > 0
    assert all(score >= 0.5 for score, _ in stored(world.call).values())


def test_bad_options_and_unknown_calls_are_rejected_writing_nothing(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compute_call_affinities(str(world.call.uuid), threshold=1.5, top_per_proposal=0)
    assert caught.value.body()["error"]["fields"] == ["threshold", "top_per_proposal"]
    with pytest.raises(NotFound):
        compute_call_affinities("call_404")
    assert Affinity.select().count() == 0


def assigned(call: Call) -> dict[int, tuple[int, float | None]]:
    """proposal id -> (reviewer id, affinity score) of the call's items."""
    items = (
        AssignmentItem.select(AssignmentItem, AssignmentBatch)
        .join(AssignmentBatch)
        .where(AssignmentBatch.call == call.id)
    )
    return {
        i.proposal_id: (i.batch.reviewer_pool_entry.reviewer_id, i.affinity_score) for i in items
    }


def test_generate_on_a_call_without_affinities_computes_them_and_assigns_by_them(
    world: World,
) -> None:
    answer = generate_assignments(make_user(is_staff=True), str(world.call.uuid)).to_json()
    assert answer["items_created"] == 2
    chosen = assigned(world.call)
    assert chosen[world.graphs.id][0] == world.ml_expert.id
    assert chosen[world.soils.id][0] == world.ecologist.id
    assert all(score is not None and score > 0.5 for _, score in chosen.values())
    assert {source for _, source in stored(world.call).values()} == {AffinitySource.COMPUTED}


def test_generate_leaves_a_call_with_imported_affinities_as_it_is(world: World) -> None:
    make_affinity(world.call, world.ecologist, world.graphs, 0.9)
    generate_assignments(make_user(is_staff=True), str(world.call.uuid))
    assert set(stored(world.call)) == {(world.ecologist.id, world.graphs.id)}
    assert assigned(world.call)[world.graphs.id][0] == world.ecologist.id


def test_the_cli_computes_a_call_and_prints_the_report(runner: CliRunner) -> None:
    world = build_world()
    table = runner.invoke(app, ["affinities", "compute", str(world.call.uuid), "--top", "5"])
    assert table.exit_code == 0, table.output
    assert "inserted" in table.stdout and "2 pairs scored" in table.stdout
    again = runner.invoke(app, ["affinities", "compute", str(world.call.uuid), "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["inserted"], report["unchanged"], report["pairs_computed"]) == (0, 2, 2)
    assert len(stored(world.call)) == 2


def test_the_cli_names_an_unknown_call_and_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["affinities", "compute", "call_404"])
    assert result.exit_code == 1
    assert "No call found." in result.stderr
    bad = runner.invoke(app, ["affinities", "compute", "call_404", "--threshold", "2"])
    assert bad.exit_code == 2
