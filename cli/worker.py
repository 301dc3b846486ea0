"""`reviewq worker`: the Procfile's worker process."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import open_store
from config import get_settings
from config.logs import configure_logging
from workers.supervisor import supervise


def worker_command(
    processes: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    threads: Annotated[int | None, typer.Option(help="Threads per process.")] = None,
    queue: Annotated[list[str], typer.Option("--queue", help="Only these queues.")] = [],  # noqa: B006
) -> None:
    """Apply migrations, then run `dramatiq` over every actor, restarting it if it dies."""
    configure_logging(process="worker-supervisor")
    settings = get_settings()
    open_store()
    code = supervise(
        processes or settings.worker_processes,
        threads or settings.worker_threads,
        queue,
        metrics_dir=settings.data_dir,
        metrics_port=settings.worker_metrics_port,
    )
    raise typer.Exit(code)
