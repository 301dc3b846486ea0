"""Compiled queries (store/compiled.py): one text for any values, the same rows as peewee's own
query, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import uuid
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from peewee import Database

from store import Review, Reviewer
from store.compiled import CompiledQuery, among, rows_of, slot
from store.db import connect_database
from store.enums import Priority, ReviewState
from store.migrations import migrate
from tests.conftest import database_url
from tests.factories import make_call, make_proposal, make_review, make_reviewer


def _reviewers_query() -> Any:
    return (
        Reviewer.select(Reviewer.id, Reviewer.uuid, Reviewer.external_id)
        .where(among(Reviewer.external_id, "external") | among(Reviewer.uuid, "uuids"))
        .order_by(Reviewer.id)
    )


def test_among_matches_like_in_for_any_length_with_one_text(db: Database) -> None:
    rows = [make_reviewer(f"rev_{n}") for n in range(5)]
    query = CompiledQuery(_reviewers_query)
    assert query.tuples(external=[], uuids=[]) == []
    one = query.tuples(external=["rev_3"], uuids=[])
    assert one == [(rows[3].id, rows[3].uuid, "rev_3")]
    text = query.text
    many = query.tuples(external=["rev_0", "rev_4", "nobody"], uuids=[rows[2].uuid, uuid.uuid4()])
    assert [r[0] for r in many] == [rows[0].id, rows[2].id, rows[4].id]
    assert query.text == text  # built once: the same text for every length
    expected = [
        r.id
        for r in Reviewer.select().where(
            Reviewer.external_id.in_(["rev_0", "rev_4"]) | (Reviewer.uuid == rows[2].uuid)
        )
    ]
    assert [r[0] for r in many] == sorted(expected)


def test_columns_come_back_as_their_fields_python_values(db: Database) -> None:
    reviewer = make_reviewer("rev_x")
    query = CompiledQuery(_reviewers_query)
    ((_, found_uuid, _),) = query.tuples(external=["rev_x"], uuids=[])
    assert isinstance(found_uuid, uuid.UUID) and found_uuid == reviewer.uuid


def test_text_is_rebuilt_for_another_database(pg_db: Database, tmp_path: Path) -> None:
    query = CompiledQuery(_reviewers_query)
    make_reviewer("rev_p")
    assert query.tuples(external=["rev_p"], uuids=[])[0][2] == "rev_p"
    assert "ANY(" in query.text
    connect_database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate()
    make_reviewer("rev_s")
    assert query.tuples(external=["rev_s", "rev_p"], uuids=[])[0][2] == "rev_s"
    assert "json_each" in query.text


def test_update_from_rows_of_a_slot(db: Database) -> None:
    call = make_call()
    reviews = [make_review(make_proposal(call)) for _ in range(3)]
    first, second = make_reviewer(), make_reviewer()
    given = rows_of("given", {"review": "integer", "reviewer": "integer"})
    update = CompiledQuery(
        lambda: (
            Review.update(
                reviewer=given.c.reviewer,
                state=ReviewState.IN_REVIEW,
                assigned_at=slot("now", Review.assigned_at),
            )
            .from_(given)
            .where(Review.id == given.c.review)
        )
    )
    now = datetime(2026, 12, 2, 12, 0)
    changed = update.count(given=[(reviews[0].id, first.id), (reviews[2].id, second.id)], now=now)
    assert changed == 2
    after = {r.id: r for r in Review.select()}
    assert after[reviews[0].id].reviewer_id == first.id
    assert after[reviews[2].id].reviewer_id == second.id
    assert after[reviews[1].id].reviewer_id is None
    assert after[reviews[1].id].state == ReviewState.UNASSIGNED
    assert after[reviews[0].id].assigned_at == now
    assert after[reviews[0].id].priority == Priority.NORMAL
    assert update.count(given=[], now=now) == 0


def test_a_compiled_query_keeps_no_old_database_alive(pg_db: Database, tmp_path: Path) -> None:
    # an old database kept alive keeps its pool's connections open: the suite ran out of them
    query = CompiledQuery(_reviewers_query)
    first = connect_database(database_url("postgres", tmp_path))
    query.tuples(external=[], uuids=[])
    gone = weakref.ref(first)
    del first
    connect_database(f"sqlite:///{tmp_path / 'next.db'}")
    migrate()
    query.tuples(external=[], uuids=[])
    gc.collect()
    assert gone() is None


def _prepared_here() -> set[str]:
    from store.db import database

    cursor = database.execute_sql("SELECT name FROM pg_prepared_statements")
    return {row[0] for row in cursor.fetchall()}


def test_on_postgresql_a_query_is_prepared_once_per_connection(pg_db: Database) -> None:
    from store.db import database

    make_reviewer("rev_a")
    query = CompiledQuery(_reviewers_query)
    query.tuples(external=["rev_a"], uuids=[])
    prepared = _prepared_here()
    assert len(prepared) == 1 and next(iter(prepared)).startswith("rq_")
    for _ in range(3):
        assert query.tuples(external=["rev_a"], uuids=[])[0][2] == "rev_a"
    assert _prepared_here() == prepared  # executed, not prepared again
    plan_mode = database.execute_sql("SHOW plan_cache_mode").fetchone()[0]
    assert plan_mode == "force_generic_plan"  # planned once, not at every run
    # a new connection (the old one closed: the pool hands out another) prepares it anew
    database.obj.manual_close()
    database.connect()
    assert _prepared_here() == set()
    assert query.tuples(external=["rev_a"], uuids=[])[0][2] == "rev_a"
    assert _prepared_here() == prepared


def test_a_prepared_statement_survives_a_rolled_back_transaction(pg_db: Database) -> None:
    from store.db import database

    make_reviewer("rev_r")
    query = CompiledQuery(_reviewers_query)
    with database.atomic() as transaction:
        query.tuples(external=["rev_r"], uuids=[])  # the PREPARE runs in this transaction
        transaction.rollback()
    assert query.tuples(external=["rev_r"], uuids=[])[0][2] == "rev_r"


def test_list_values_of_any_text_round_trip(db: Database) -> None:
    # a prepared statement takes a list as an array literal: quotes, backslashes, commas,
    # braces, spaces and the word NULL must all arrive as they are
    awkward = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "", "ü", "i'j"]
    made = {name: make_reviewer(f"rev_{n}", name=name) for n, name in enumerate(awkward)}
    query = CompiledQuery(
        lambda: Reviewer.select(Reviewer.name).where(among(Reviewer.name, "names"))
    )
    found = {row[0] for row in query.tuples(names=awkward)}
    assert found == set(made)
    assert query.tuples(names=["nobody", 'a"b']) == [('a"b',)]


def test_first_gives_the_instance_peewee_s_own_get_would_give(db: Database) -> None:
    review = make_review(make_proposal(make_call()), make_reviewer("rev_1"))
    query = CompiledQuery(lambda: Review.select().where(Review.uuid == slot("uuid", Review.uuid)))
    found = query.first(Review, uuid=str(review.uuid))  # a text uuid, as a caller may hold
    expected = Review.get(Review.uuid == review.uuid)
    assert found is not None
    assert found.__data__ == expected.__data__
    assert isinstance(found.state, ReviewState) and isinstance(found.created, datetime)
    assert found._dirty == set()  # a save() would write nothing
    assert query.first(Review, uuid=uuid.uuid4()) is None
