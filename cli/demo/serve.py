"""`reviewq demo --serve`: after the demo's checks, the whole system kept running until Ctrl-C.

Workers, the scheduler and the web process (the API and the pages) run as real processes on the
demo's embedded defaults; the command prints one reviewer's response link and the manager's
sign-in URL and token, then waits. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from cli.context import console, err_console
from store import AssignmentBatch, AssignmentItem, User
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tasks.links import response_link
from tasks.users import rotate_token
from workers.supervisor import start_dramatiq

MANAGER = "manager"
START_SECONDS = 30.0


def serve(env: dict[str, str], data_dir: Path, processes: int, port: int) -> int:
    """Run workers, scheduler and web until Ctrl-C or SIGTERM (or one of them dies); returns
    the exit code. Every process started here is stopped before it returns."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, _interrupt)
    children = _start(env, data_dir, processes)
    try:
        base = env["PUBLIC_URL"]
        if not _wait_until_up(f"http://127.0.0.1:{port}/login", children):
            err_console.print(f"[red]the web process did not start[/]; see {data_dir / 'web.log'}")
            return 1
        _print_doors(base)
        return _wait(children)
    finally:
        for name, child in children.items():
            stop_process(child)
            console.print(f"stopped {name}")
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signum)


def _start(
    env: dict[str, str], data_dir: Path, processes: int
) -> dict[str, subprocess.Popen[bytes]]:
    def log(name: str) -> object:
        return open(data_dir / f"{name}.log", "ab")

    common: dict[str, object] = {"stderr": subprocess.STDOUT, "start_new_session": True}
    return {
        "workers": start_dramatiq(processes, 4, env, stdout=log("serve-worker"), **common),
        "scheduler": subprocess.Popen(
            [sys.executable, "-m", "scheduler"], env=_merged(env), stdout=log("scheduler"), **common
        ),  # type: ignore[call-overload]
        "web": subprocess.Popen(
            [sys.executable, "-m", "api"], env=_merged(env), stdout=log("web"), **common
        ),  # type: ignore[call-overload]
    }


def _merged(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}


def _wait_until_up(url: str, children: dict[str, subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if children["web"].poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def _print_doors(base: str) -> None:
    batch = _answerable_batch()
    manager = User.get_or_none(User.username == MANAGER)
    console.print()
    console.print("[bold green]reviewq is running[/] (Ctrl-C stops it)")
    if batch is not None:
        reviewer = batch.reviewer_pool_entry.reviewer
        console.print(f"A reviewer's invitation ({reviewer.name}), no login needed:")
        console.print(f"  {response_link(batch)}", soft_wrap=True)
    if manager is not None:
        console.print(f"The manager signs in at {base}/login with this token:")
        console.print(f"  {rotate_token(manager)}", soft_wrap=True)
        console.print(f"  then sees the calls at {base}/")
    console.print(f"API documentation: {base}/docs")


def _answerable_batch() -> AssignmentBatch | None:
    """A sent batch with a pending item and its deadline ahead, the main call's first."""
    pending = AssignmentItem.select(AssignmentItem.batch).where(
        AssignmentItem.status == ItemStatus.PENDING
    )
    query = (
        AssignmentBatch.select()
        .where(
            AssignmentBatch.status == BatchStatus.SENT,
            AssignmentBatch.expires_at > utcnow(),
            AssignmentBatch.id.in_(pending),
        )
        .order_by(AssignmentBatch.call, AssignmentBatch.id)
    )
    return query.first()


def _wait(children: dict[str, subprocess.Popen[bytes]]) -> int:
    try:
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    err_console.print(f"[red]{name} exited ({child.returncode})[/]; stopping")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\nstopping ...")
        return 0


def stop_process(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM `child`, then SIGKILL it if it has not exited within 20 s."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
