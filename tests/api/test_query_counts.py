"""No N+1: every list endpoint runs as many SQL statements for a page of 50 as for a page of 5."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store import database
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_reviewer,
    make_user,
    with_token,
)

BATCHES = 60
ITEMS_PER_BATCH = 2
LISTS = {
    "/api/assignment-items/": ("api.items", "manager"),
    "/api/assignment-batches/": ("api.batches", "manager"),
    "/api/my-assignment-batches/": ("api.batches", "reviewer"),
}


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every SQL statement the database runs inside the block, in order."""
    db = database.obj
    original = db.execute_sql
    statements: list[str] = []

    def execute_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return original(sql, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del db.execute_sql


@pytest.fixture
def auth(api_client: TestClient) -> dict[str, dict[str, str]]:
    """BATCHES sent batches of one call for one reviewer, ITEMS_PER_BATCH items each (one of
    them COI-blocked with a score, so every relation is read); tokens of the call's manager and
    of the reviewer."""
    call = make_call()
    reviewer_user = make_user()
    reviewer = make_reviewer(user=reviewer_user)
    now = utcnow()
    for n in range(BATCHES):
        batch = make_assignment_batch(
            call, reviewer, status=BatchStatus.SENT, sent_at=now, expires_at=now + timedelta(n + 1)
        )
        make_assignment_item(batch, affinity_score=0.5)
        make_assignment_item(batch, status=ItemStatus.COI_BLOCKED, has_coi=True)
    return {"manager": with_token(make_call_manager(call)), "reviewer": with_token(reviewer_user)}


def statements_for(client: TestClient, path: str, headers: dict[str, str], size: int) -> int:
    with counting_statements() as statements:
        response = client.get(path, params={"page_size": size}, headers=headers)
    assert response.status_code == 200 and len(response.json()) == size
    return len(statements)


@pytest.mark.parametrize("path", list(LISTS))
def test_a_list_runs_the_same_number_of_queries_for_5_and_50_rows(
    api_client: TestClient, auth: dict[str, dict[str, str]], path: str
) -> None:
    module, who = LISTS[path]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    small = statements_for(api_client, path, auth[who], 5)
    large = statements_for(api_client, path, auth[who], 50)
    assert small == large
    assert large <= 10
