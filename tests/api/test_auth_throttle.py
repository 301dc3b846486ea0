"""Defect 8 (#12): failed authentications are limited per client address in Redis, so the limit
holds across web processes: two real `web` processes share one Redis; the failures sent to
either count together, and past the limit both answer 429 with Retry-After in the family's shape
(even to a valid token, so a guesser learns nothing), until the window ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from peewee import Database

from tests.factories import make_user, with_token

LIMIT = 4
WINDOW = 3
BATCHES = "/api/assignment-batches/"
ASSIGN = "/v1/reviews/assign"


def test_failed_tokens_are_limited_across_two_web_processes(
    sqlite_db: Database, web_servers: Callable[..., tuple[str, Any]]
) -> None:
    valid = with_token(make_user(is_staff=True))
    env = {
        "REVIEWQ_AUTH_FAILURE_LIMIT": str(LIMIT),
        "REVIEWQ_AUTH_FAILURE_WINDOW_SECONDS": str(WINDOW),
    }
    (first, _), (second, _) = web_servers(**env), web_servers(**env)
    wrong = {"Authorization": "Token wrong"}
    answers = [
        httpx.get(f"{url}{BATCHES}", headers=wrong).status_code
        for url in (first, second, first, second)
    ]
    assert answers == [401] * LIMIT

    drf = httpx.get(f"{second}{BATCHES}", headers=wrong)
    assert drf.status_code == 429
    retry_after = int(drf.headers["Retry-After"])
    assert 1 <= retry_after <= WINDOW
    expected = f"Request was throttled. Expected available in {retry_after} seconds."
    assert drf.json() == {"detail": expected}

    envelope = httpx.post(f"{first}{ASSIGN}", json={}, headers={"Authorization": "Bearer wrong"})
    assert envelope.status_code == 429 and "Retry-After" in envelope.headers
    assert envelope.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    # a valid token from the same address is refused too while the window lasts
    assert httpx.get(f"{first}{BATCHES}", headers=valid).status_code == 429

    time.sleep(retry_after + 0.5)
    assert httpx.get(f"{first}{BATCHES}", headers=valid).status_code == 200
    assert httpx.get(f"{second}{BATCHES}", headers=wrong).status_code == 401


def test_requests_without_credentials_are_not_counted(
    sqlite_db: Database, web_servers: Callable[..., tuple[str, Any]]
) -> None:
    url, _ = web_servers(REVIEWQ_AUTH_FAILURE_LIMIT="2")
    for _ in range(5):
        assert httpx.get(f"{url}{BATCHES}").status_code == 401
    valid = with_token(make_user(is_staff=True))
    assert httpx.get(f"{url}{BATCHES}", headers=valid).status_code == 200
