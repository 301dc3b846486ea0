"""The Procfile under honcho (a Procfile runner, as foreman): from a shell with no virtual
environment activated, every process starts and `web` listens on the port the README says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.builders import REDIS_URL, free_port

ROOT = Path(__file__).resolve().parents[2]
HONCHO = Path(sys.executable).parent / "honcho"


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


@pytest.mark.e2e
def test_every_procfile_process_starts_and_web_takes_port(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",  # no .venv/bin: the Procfile must find its own commands
        "HOME": os.environ.get("HOME", "/root"),
        "PORT": str(port),  # honcho gives the first process $PORT (foreman does the same)
        "DATABASE_URL": f"sqlite:///{tmp_path}/reviews.db",
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
    }
    runner = subprocess.Popen(
        [str(HONCHO), "start"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _get(f"http://127.0.0.1:{port}/openapi.json") != 200:
            assert runner.poll() is None, "honcho stopped: a process failed to start"
            assert time.monotonic() < deadline, "web never answered on $PORT"
            time.sleep(0.5)
        time.sleep(3)  # the worker and the scheduler are up too, or honcho has stopped
        assert runner.poll() is None
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        output, _ = runner.communicate(timeout=30)
    for process in ("web.1", "worker.1", "scheduler.1"):
        assert f"{process} " in output, output
    assert "Worker process is ready for action" in output, output
    assert "command not found" not in output and "No such file" not in output, output
