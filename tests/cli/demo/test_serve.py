"""`reviewq demo --serve`: the checks, then the system kept running with working doors for a
reviewer and a manager, until SIGTERM (as Ctrl-C) stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.builders import free_port

pytestmark = pytest.mark.e2e


def _read_until(proc: subprocess.Popen[str], pattern: str, seconds: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if re.search(pattern, line):
            lines.append(proc.stdout.readline().rstrip("\n"))
            return lines
    raise AssertionError("demo --serve never printed the doors:\n" + "\n".join(lines[-40:]))


def test_demo_serve_keeps_the_system_running_with_a_reviewer_link_and_a_manager_token(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL", "REVIEWQ_SECRET_KEY")
    }
    env["COLUMNS"] = "400"  # one link per line
    command = [sys.executable, "-m", "cli", "demo", "--serve", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "demo")]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = _read_until(proc, "signs in at", 400)
        text = "\n".join(lines)
        link = re.search(r"(http://localhost:\d+/respond/\S+)", text)
        assert link is not None, text
        token = lines[-1].strip()

        reviewer_page = httpx.get(link.group(1).replace(f"http://localhost:{port}", base))
        assert reviewer_page.status_code == 200
        assert ">Accept</button>" in reviewer_page.text
        home = httpx.get(
            f"{base}/api/assignment-batches/", headers={"Authorization": f"Token {token}"}
        )
        assert home.status_code == 200 and home.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=90)[0]
    assert proc.returncode == 0, rest
    assert "stopped web" in rest
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/login", timeout=2)
