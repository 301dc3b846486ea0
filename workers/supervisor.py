"""Run the `dramatiq` command and start it again when it dies.

`dramatiq` stops all its worker processes when one of them dies (reliability.md), so a
worker that is SIGKILLed by the OOM killer would otherwise take the whole node down.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO

from config.logs import chosen_format
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


#: dramatiq's own log format (its CLI's LOGFORMAT), for the lines its main process writes
DRAMATIQ_LINE = re.compile(
    r"^\[(?P<time>[^\]]*)\] \[PID (?P<pid>\d+)\] \[(?P<thread>[^\]]*)\] "
    r"\[(?P<logger>[^\]]*)\] \[(?P<level>[A-Z]+)\] (?P<message>.*)$"
)


def relay_lines(stream: IO[bytes] | None) -> None:
    """Copy what `dramatiq` writes to our stderr, so that with LOG_FORMAT=json every line is
    JSON: the worker processes already log JSON (workers.broker.install configures them);
    anything else (dramatiq's main process, a crash's traceback) is logged again as a
    structured line of the logger it names."""
    if stream is None:
        return
    as_json = chosen_format() == "json"
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if not as_json or _is_json_object(line):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            continue
        parsed = DRAMATIQ_LINE.match(line)
        if parsed is None:
            logging.getLogger("dramatiq").warning(line)
            continue
        level = logging.getLevelName(parsed["level"])
        logging.getLogger(parsed["logger"]).log(
            level if isinstance(level, int) else logging.INFO,
            parsed["message"],
            extra={"dramatiq_pid": int(parsed["pid"])},
        )


def _is_json_object(line: str) -> bool:
    if not line.startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


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
        child = subprocess.Popen(
            dramatiq_command(processes, threads, queues), stderr=subprocess.PIPE
        )
        relay = threading.Thread(target=relay_lines, args=(child.stderr,), daemon=True)
        relay.start()
        code = child.wait()
        relay.join(timeout=5)
        if stopping:
            return 0
        if time.monotonic() - started > HEALTHY_RUN_SECONDS:
            backoff = 1.0
        logger.warning("dramatiq exited with %s; restarting in %.0f s", code, backoff)
        time.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
