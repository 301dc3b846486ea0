"""A database or Redis that cannot be used: one line naming the setting, exit 1, no traceback;
`reviewq migrate` creates a missing PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from typer.testing import CliRunner

from cli.app import app
from config import get_settings
from tests.builders import PG_URL, free_port


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, pytest.MonkeyPatch]]:
    """The CliRunner with settings read afresh from the environment the test sets."""
    get_settings.cache_clear()
    yield CliRunner(), monkeypatch
    get_settings.cache_clear()


def _with_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def _pg_url(name: str, user: str | None = None) -> str:
    parsed = urlparse(PG_URL)
    netloc = parsed.netloc if user is None else f"{user}@{parsed.hostname}:{parsed.port or 5432}"
    return urlunparse(parsed._replace(path=f"/{name}", netloc=netloc))


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(_pg_url("postgres"))
    conn.autocommit = True
    return conn


def _drop_database(name: str) -> None:
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def test_a_missing_database_says_what_to_run(cli: tuple[CliRunner, pytest.MonkeyPatch]) -> None:
    runner, monkeypatch = cli
    name = f"reviewq_missing_{uuid.uuid4().hex[:8]}"
    _with_database(_pg_url(name), monkeypatch)
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith("DATABASE_URL:") and "does not exist" in line
    assert "createdb -h 127.0.0.1" in line and name in line


def test_an_unreachable_database_hides_its_password(
    cli: tuple[CliRunner, pytest.MonkeyPatch],
) -> None:
    runner, monkeypatch = cli
    _with_database(f"postgresql://alice:s3cret@127.0.0.1:{free_port()}/x", monkeypatch)
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert "DATABASE_URL: cannot use postgresql://alice:***@127.0.0.1" in line
    assert "s3cret" not in result.output


def test_an_unsupported_database_url(cli: tuple[CliRunner, pytest.MonkeyPatch]) -> None:
    runner, monkeypatch = cli
    _with_database("mysql://root@localhost/reviewq", monkeypatch)
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 1
    assert "unsupported scheme 'mysql'" in _one_line(result.output)


def test_unreachable_redis_is_one_line(
    cli: tuple[CliRunner, pytest.MonkeyPatch], tmp_path: object
) -> None:
    runner, monkeypatch = cli
    _with_database(f"sqlite:///{tmp_path}/r.db", monkeypatch)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    result = runner.invoke(app, ["dead-letters", "list"])
    assert result.exit_code == 1
    assert _one_line(result.output).startswith("REDIS_URL: Redis at redis://127.0.0.1:")


def test_migrate_creates_a_missing_postgres_database(
    cli: tuple[CliRunner, pytest.MonkeyPatch],
) -> None:
    runner, monkeypatch = cli
    name = f"reviewq_new_{uuid.uuid4().hex[:8]}"
    _with_database(_pg_url(name), monkeypatch)
    try:
        first = runner.invoke(app, ["migrate"])
        assert first.exit_code == 0, first.output
        assert f"created database {name}" in first.output
        assert "applied: initial schema" in first.output
        again = runner.invoke(app, ["migrate"])
        assert again.exit_code == 0 and "schema is up to date" in again.output
    finally:
        _drop_database(name)


def test_migrate_without_the_right_to_create_says_what_to_run(
    cli: tuple[CliRunner, pytest.MonkeyPatch],
) -> None:
    runner, monkeypatch = cli
    role = f"reviewq_nocreate_{uuid.uuid4().hex[:6]}"
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    name = f"reviewq_denied_{uuid.uuid4().hex[:8]}"
    _with_database(_pg_url(name, user=role), monkeypatch)
    try:
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 1
        line = _one_line(result.output)
        assert "cannot be created here (permission denied" in line
        assert f"-O {role} {name}" in line
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.close()


def test_a_bad_setting_is_one_line_naming_the_variable(
    cli: tuple[CliRunner, pytest.MonkeyPatch],
) -> None:
    runner, monkeypatch = cli
    monkeypatch.setenv("REVIEWQ_WORKER_METRICS_PORT", "lots")
    get_settings.cache_clear()
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith("configuration: REVIEWQ_WORKER_METRICS_PORT: ")
