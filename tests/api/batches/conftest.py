"""The batch API tests start from Rita's draft batch, with PUBLIC_URL the TestClient's base."""

from __future__ import annotations

import pytest
from peewee import Database

from tests.builders import BatchWorld, build_batch_world


@pytest.fixture
def world(db: Database, testserver_url: str) -> BatchWorld:
    return build_batch_world()
