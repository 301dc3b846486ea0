"""`reviewq scheduler run-once JOB [--now ISO-8601]`: one scheduler job, as if the clock read
that time (for admins, the demo and tests). It runs the job directly, without the leader lease:
every job is idempotent, so running it next to a live scheduler is harmless."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cli.context import console, err_console, open_store
from cli.output import print_json
from config import get_settings
from scheduler.jobs import JOBS, JobOptions
from store.clock import to_naive_utc, utcnow

scheduler_app = typer.Typer(help="The scheduler daemon's jobs.", no_args_is_help=True)


def parse_now(value: str | None) -> datetime:
    """`value` (ISO 8601, a trailing Z allowed; naive means UTC) as naive UTC; None: now."""
    if value is None:
        return utcnow()
    try:
        return to_naive_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise typer.BadParameter(f"--now: {value!r} is not an ISO-8601 instant") from exc


@scheduler_app.command("run-once")
def run_once_command(
    job: Annotated[
        str,
        typer.Argument(
            help="expire_batches, send_reminders, notify_managers, "
            "remind_review_deadlines, sweep_outbox or redrive_requests."
        ),
    ],
    now: Annotated[str | None, typer.Option("--now", help="The clock, ISO-8601.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run one scheduler job once, as if the clock read --now (default: the real time)."""
    name = job.replace("-", "_")
    if name not in JOBS:
        err_console.print(f"[red]unknown job {job!r}[/]; one of: {', '.join(JOBS)}")
        raise typer.Exit(2)
    instant = parse_now(now)
    open_store()
    report = JOBS[name](instant, JobOptions.from_settings(get_settings()))
    if as_json:
        print_json({"job": report.job, "now": instant.isoformat(), **report.counts})
        return
    console.print(f"{report.summary()} (now={instant.isoformat()})")
