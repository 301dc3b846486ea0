"""`reviewq config` (settings in effect, where each came from, secrets masked) and `--version`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from config import get_settings


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory of its own (for `.env`), settings read afresh."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SMTP_URL", "PORT", "REVIEWQ_WORKER_THREADS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _rows(output: str) -> dict[str, dict[str, str]]:
    return {row["variable"]: row for row in json.loads(output)}


def test_config_says_where_each_setting_came_from(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / ".env").write_text("REVIEWQ_WORKER_THREADS=3\n")
    monkeypatch.setenv("PORT", "9001")
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert rows["PORT"] == {"variable": "PORT", "value": "9001", "source": "environment (PORT)"}
    assert rows["REVIEWQ_WORKER_THREADS"]["value"] == "3"
    assert rows["REVIEWQ_WORKER_THREADS"]["source"] == ".env (REVIEWQ_WORKER_THREADS)"
    assert rows["MAIL_FROM"]["source"] == "default"


def test_config_masks_passwords_and_secrets(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2@db:5432/reviewq")
    monkeypatch.setenv("SMTP_URL", "smtp://mailer:pa55@mail:587")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "pa55" not in result.output
    rows = _rows(CliRunner().invoke(app, ["config", "--json"]).output)
    assert rows["DATABASE_URL"]["value"] == "postgresql://app:***@db:5432/reviewq"
    assert rows["SMTP_URL"]["value"] == "smtp://mailer:***@mail:587"


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"reviewq {version('reviewq')}"
