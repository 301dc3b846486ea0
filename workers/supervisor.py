"""Run the `dramatiq` command and start it again when it dies.

`dramatiq` stops all its worker processes when one of them dies (reliability.md), so a
worker that is SIGKILLed by the OOM killer would otherwise take the whole node down.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from workers.node_metrics import prepare_directory, serve

logger = logging.getLogger(__name__)

#: the broker entry point (built from the settings in each worker process), then the actors
DRAMATIQ_MODULES = ("workers.broker:install", "tasks.actors")
#: A run that lasted this long resets the restart backoff.
HEALTHY_RUN_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0


def dramatiq_command(processes: int, threads: int, queues: Sequence[str] = ()) -> list[str]:
    """The `dramatiq` command line over every actor module of reviewq."""
    cmd = [sys.executable, "-m", "dramatiq", *DRAMATIQ_MODULES]
    cmd += ["--processes", str(processes), "--threads", str(threads)]
    if queues:
        cmd += ["--queues", *queues]
    return cmd


def start_dramatiq(
    processes: int, threads: int, env: Mapping[str, str] | None = None, **popen: object
) -> subprocess.Popen[bytes]:
    """Start one `dramatiq` command in the background (for the demo and the tests)."""
    merged = {**os.environ, **(env or {})}
    return subprocess.Popen(dramatiq_command(processes, threads), env=merged, **popen)  # type: ignore[call-overload]


def supervise(
    processes: int,
    threads: int,
    queues: Sequence[str] = (),
    *,
    metrics_dir: Path | None = None,
    metrics_port: int = 0,
) -> int:
    """Run `dramatiq` until SIGINT/SIGTERM, restarting it with backoff when it exits; with
    `metrics_dir`, the node's processes count into it and `metrics_port` serves their sum."""
    if metrics_dir is not None:
        directory = prepare_directory(metrics_dir)
        serve(directory, metrics_port)
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(dramatiq_command(processes, threads, queues))
        code = child.wait()
        if stopping:
            return 0
        if time.monotonic() - started > HEALTHY_RUN_SECONDS:
            backoff = 1.0
        logger.warning("dramatiq exited with %s; restarting in %.0f s", code, backoff)
        time.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
