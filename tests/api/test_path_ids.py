"""An id in a path that no record can carry (a NUL, sent as %00) is a 404, never a 500, on
every call-level action and every record, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from tests.factories import make_user, with_token

POSTS = [
    "/api/proposal-protected-calls/%00/generate-assignments/",
    "/api/proposal-protected-calls/%00/send-all-assignments/",
    "/api/assignment-batches/%00/send/",
]
GETS = [
    "/api/assignment-batches/%00/",
    "/api/assignment-items/%00/",
    "/api/my-assignment-batches/%00/",
]


@pytest.mark.parametrize("path", POSTS)
def test_a_nul_in_a_path_id_of_an_action_is_not_found(
    api_client: TestClient, db: Database, path: str
) -> None:
    response = api_client.post(path, json={}, headers=with_token(make_user(is_staff=True)))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path", GETS)
def test_a_nul_in_a_path_id_of_a_record_is_not_found(
    api_client: TestClient, db: Database, path: str
) -> None:
    response = api_client.get(path, headers=with_token(make_user(is_staff=True)))
    assert response.status_code == 404
