"""The records behind the hyperlinks: Rita's batch of "Quantum Computing 2026", sent, with one
item accepted (so it links a review), seen by Mona (its manager), Rita, another call's manager
and a stranger; PUBLIC_URL points elsewhere, so every link must come from the request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from tasks.items.answers import accept_item
from tests.builders import NOW, BatchWorld, build_batch_world, sent_batch
from tests.factories import with_token


@dataclass
class LinkWorld:
    world: BatchWorld
    auth: dict[str, dict[str, str]]


@pytest.fixture
def links_world(db: Database, client: TestClient, public_url: str) -> Iterator[LinkWorld]:
    world = build_batch_world()
    sent_batch(world)
    auth = {
        name: with_token(user)
        for name, user in {
            "manager": world.manager,
            "reviewer": world.reviewer_user,
            "staff": world.staff,
            "other_manager": world.other_manager,
            "stranger": world.stranger,
        }.items()
    }
    # accepted on the batch's clock (sent ten days before NOW), so that an item links a review
    accept_item(world.reviewer_user, str(world.items[0].uuid), now=NOW - timedelta(days=1))
    yield LinkWorld(world, auth)


def hyperlinks(body: Any, base: str) -> set[str]:
    """Every string in `body` (nested) that is a url of this API under `base`."""
    if isinstance(body, dict):
        return set().union(*(hyperlinks(v, base) for v in body.values())) if body else set()
    if isinstance(body, list):
        return set().union(*(hyperlinks(v, base) for v in body)) if body else set()
    if isinstance(body, str) and body.startswith(f"{base}/api/"):
        return {body}
    return set()
