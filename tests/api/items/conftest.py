"""The item API tests start from Rita's sent batch and another reviewer's draft, every user
with a token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import ItemsWorld, build_items_world


@pytest.fixture
def world(api_client: TestClient) -> ItemsWorld:
    return build_items_world()
