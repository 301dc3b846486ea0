"""generate with the call's attribute constraints (issue #15): reviewer records give the
attributes (organization and `attributes`); impossible constraints name the field."""

from __future__ import annotations

from collections import defaultdict

import pytest
from peewee import Database

from store import Call, Reviewer
from store.db import database
from store.migrations import migrate, schema_version
from tasks.batches.generate import generate_assignments
from tasks.errors import ValidationFailed
from tests.builders import build_pool_world, pending_items
from tests.factories import make_affinity

SENIOR = {"kind": "at_least", "attribute": "senior", "value": "yes", "count": 1}
ONE_PER_ORG = {"kind": "at_most", "attribute": "organization", "count": 1}


def test_every_proposal_gets_a_senior_and_no_two_of_one_organization(db: Database) -> None:
    w = build_pool_world(n_proposals=4, n_reviewers=5, k=2, cap=4)
    for j, reviewer in enumerate(w.reviewers):
        Reviewer.update(
            organization=f"org{j % 3}", attributes={"senior": "yes" if j == 0 else "no"}
        ).where(Reviewer.id == reviewer.id).execute()
        for i, proposal in enumerate(w.proposals):
            # the senior scores lowest everywhere: without the constraint nobody picks them
            make_affinity(w.call, reviewer, proposal, 0.1 if j == 0 else 0.9 - 0.05 * (i + j))
    Call.update(attribute_constraints=[SENIOR, ONE_PER_ORG]).where(Call.id == w.call.id).execute()
    generate_assignments(w.staff, str(w.call.uuid))
    by_proposal: dict[int, list[int]] = defaultdict(list)
    for item in pending_items(w.call):
        by_proposal[item.proposal_id].append(item.batch.reviewer_pool_entry.reviewer_id)
    assert len(by_proposal) == 4 and all(len(r) == 2 for r in by_proposal.values())
    orgs = {r.id: r.organization for r in Reviewer.select()}
    for reviewers in by_proposal.values():
        assert w.reviewers[0].id in reviewers
        assert len({orgs[r] for r in reviewers}) == 2


def test_an_impossible_constraint_is_a_validation_error_naming_the_field(db: Database) -> None:
    w = build_pool_world(n_proposals=2, n_reviewers=3, k=2, cap=2)
    for reviewer in w.reviewers:
        for proposal in w.proposals:
            make_affinity(w.call, reviewer, proposal, 0.5)
    wanted = [{**SENIOR, "count": 1}]
    Call.update(attribute_constraints=wanted).where(Call.id == w.call.id).execute()
    with pytest.raises(ValidationFailed) as caught:
        generate_assignments(w.staff, str(w.call.uuid))
    [error] = caught.value.details["errors"][:1]
    assert error["field"] == "attribute_constraints"
    assert "at least 1 with senior=yes is impossible" in error["message"]
    assert pending_items(w.call) == []


def test_migration_3_adds_the_columns_to_a_database_without_them(db: Database) -> None:
    assert schema_version() >= 3
    database.execute_sql("ALTER TABLE call DROP COLUMN attribute_constraints")
    database.execute_sql("DELETE FROM schema_migration WHERE version = 3")
    assert migrate() == ["attribute constraints"]
    columns = {c.name for c in database.get_columns("call")}
    assert "attribute_constraints" in columns
