"""Fixtures of the command-line tests: typer's runner over the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peewee import Database
from typer.testing import CliRunner

from config import get_settings


@pytest.fixture
def runner(
    db: Database,
    db_url: str,
    public_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[CliRunner]:
    """The real command line on the test database (DATABASE_URL), PUBLIC_URL set."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables on one line each
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
