"""`reviewq demo`: the whole system on one machine, on embedded defaults, checked end to end.

SQLite under the data directory, a private Redis (unless REDIS_URL is set), mail written as
.eml files, real `dramatiq` worker processes. It loads a realistic sample, sends bulk-assign
requests with every strategy, waits for them, checks the outcome and exits 1 if a check fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.context import console, err_console, open_store
from cli.demo.lifecycle import run_lifecycle
from cli.demo.sample import sample_document
from cli.demo.scenarios import check_outcome, print_report, send_scenarios
from cli.demo.serve import serve as serve_until_stopped
from cli.demo.serve import stop_process
from config import get_settings
from store import AssignmentRequest
from store.db import database
from store.enums import FINISHED_REQUEST_STATUSES
from tasks.imports.load import load_data
from workers.broker import build_broker, get_broker, set_broker
from workers.embedded_redis import EmbeddedRedis
from workers.supervisor import start_dramatiq

DEFAULT_DIR = Path("var/demo")


@contextlib.contextmanager
def embedded_environment(data_dir: Path) -> Iterator[dict[str, str]]:
    """The environment of the demo's processes: its database, Redis and mail drop."""
    env = {
        "REVIEWQ_DATA_DIR": str(data_dir.resolve()),
        "DATABASE_URL": f"sqlite:///{(data_dir / 'reviews.db').resolve()}",
        "SMTP_URL": "",
    }
    redis_server = None
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        redis_server = EmbeddedRedis(data_dir / "redis").start()
        env["REDIS_URL"] = redis_server.url
    try:
        yield env
    finally:
        if redis_server is not None:
            redis_server.stop()


def _fresh_dir(data_dir: Path) -> None:
    for name in ("reviews.db", "reviews.db-wal", "reviews.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "outbox", ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)


def _load_sample(seed: int) -> dict[str, Any]:
    open_store()
    document = sample_document(seed)
    with console.status("loading the sample call ..."):
        load_data(document)
    return document


def _start_workers(env: dict[str, str], data_dir: Path, processes: int) -> subprocess.Popen[bytes]:
    log = open(data_dir / "worker.log", "wb")  # noqa: SIM115 (the child owns it)
    return start_dramatiq(
        processes, 4, env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_all(requests: list[Any], timeout: float) -> list[Any]:
    ids = list(dict.fromkeys(r.id for r in requests))  # a duplicate shares its request
    columns = (TextColumn("requests"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("wait", total=len(ids))
        deadline = time.monotonic() + timeout
        while True:
            rows = {
                r.id: r for r in AssignmentRequest.select().where(AssignmentRequest.id.in_(ids))
            }
            done = sum(r.status in FINISHED_REQUEST_STATUSES for r in rows.values())
            progress.update(task, completed=done)
            if done == len(ids) or time.monotonic() > deadline:
                return [rows[i] for i in ids]
            time.sleep(0.2)


def demo_command(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files.")] = DEFAULT_DIR,
    processes: Annotated[int, typer.Option(help="dramatiq worker processes.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the sample data.")] = 7,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the workers.")] = 180.0,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="After the checks, keep the whole system running (web pages included) "
            "until Ctrl-C, and print a reviewer's link and the manager's token.",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="The web process's port with --serve.")] = 8000,
) -> None:
    """Run reviewq end to end on embedded defaults and check what happened."""
    _fresh_dir(data_dir)
    with embedded_environment(data_dir) as env:
        env["PORT"] = str(port)
        env["PUBLIC_URL"] = os.environ.get("PUBLIC_URL") or f"http://localhost:{port}"
        with demo_settings(env):
            _run(data_dir, processes, seed, timeout)
            if serve:
                code = serve_until_stopped(env, data_dir, processes, port)
                if code:
                    raise typer.Exit(code)


@contextlib.contextmanager
def demo_settings(env: dict[str, str]) -> Iterator[None]:
    """This process configured by `env` for the demo's duration: its settings, its broker and
    its database, as a process started with that environment would be."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    previous = get_broker()
    set_broker(build_broker(env["REDIS_URL"]))
    try:
        yield
    finally:
        get_broker().close()
        set_broker(previous)
        database.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def _run(data_dir: Path, processes: int, seed: int, timeout: float) -> None:
    started = time.monotonic()
    env = {k: os.environ[k] for k in ("REVIEWQ_DATA_DIR", "DATABASE_URL", "REDIS_URL", "SMTP_URL")}
    console.print(f"[bold]reviewq demo[/] in {data_dir} (Redis at {env['REDIS_URL']})")
    document = _load_sample(seed)
    workers = _start_workers(env, data_dir, processes)
    try:
        sent = send_scenarios()
        finished = _wait_all([s.request for s in sent], timeout)
        checks = check_outcome(sent, finished, document, data_dir, timeout=30.0)
        checks += run_lifecycle(data_dir, timeout)
    finally:
        stop_process(workers)
    print_report(sent, finished, checks, time.monotonic() - started)
    failed = [c for c in checks if not c.passed]
    if failed:
        err_console.print(
            f"[red]{len(failed)} check(s) failed[/]; worker log: {data_dir / 'worker.log'}"
        )
        raise typer.Exit(1)
    console.print(f"[green]all {len(checks)} checks passed[/]")
