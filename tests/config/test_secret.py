"""REVIEWQ_SECRET_KEY, or a key generated once into the data directory and shared by every
process that reads it (config/secret.py)."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import get_settings
from config.secret import SECRET_FILE, secret_key


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("REVIEWQ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REVIEWQ_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_the_configured_key_wins_and_nothing_is_written(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWQ_SECRET_KEY", "k" * 40)
    get_settings.cache_clear()
    assert secret_key() == "k" * 40
    assert not (data_dir / SECRET_FILE).exists()
    assert "k" * 40 not in repr(get_settings())


def test_without_one_a_private_key_is_generated_once(data_dir: Path) -> None:
    first = secret_key()
    path = data_dir / SECRET_FILE
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key() == first


def test_processes_started_together_agree_on_one_key(data_dir: Path) -> None:
    code = "from config.secret import secret_key; print(secret_key())"
    env_cmd = [sys.executable, "-c", code]
    procs = [
        subprocess.Popen(env_cmd, stdout=subprocess.PIPE, env=_env(data_dir)) for _ in range(4)
    ]
    keys = {proc.communicate(timeout=60)[0].decode().strip() for proc in procs}
    assert len(keys) == 1
    assert keys == {(data_dir / SECRET_FILE).read_text().strip()}


def _env(data_dir: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "REVIEWQ_SECRET_KEY"}
    env["REVIEWQ_DATA_DIR"] = str(data_dir)
    return env
