"""The batch use-case tests start from Rita's draft batch; generate and manual assignment start
from a call and its pool instead (their modules say so with their own `world`)."""

from __future__ import annotations

import pytest
from peewee import Database

from tests.builders import BatchWorld, build_batch_world


@pytest.fixture
def world(db: Database, public_url: str) -> BatchWorld:
    return build_batch_world()
