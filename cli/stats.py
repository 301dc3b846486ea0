"""`reviewq stats`: what the system is doing now. Live workers (their queues and what they
finished in the last minute) and schedulers (the leader, the last run of each job) from their
heartbeats (workers/heartbeat.py); queue depths with the messages in progress; requests,
batches and the outbox backlog from the store; the busiest reviewers."""

from __future__ import annotations

from typing import Annotated, Any

import redis
import typer
from rich.table import Table
from rich.text import Text

from cli.context import console, open_store
from cli.output import print_json
from config import get_settings
from store import AssignmentBatch, AssignmentRequest, Notification, Reviewer
from store.workload import workloads
from tasks.stats import by_status, oldest_pending_notification_age
from workers import heartbeat
from workers.admin import queue_depths
from workers.redis_keys import QUEUES


def _from_redis() -> dict[str, Any]:
    client = redis.Redis.from_url(get_settings().effective_redis_url, socket_timeout=2)
    try:
        return {
            "queues": [vars(d) for d in queue_depths(client)],
            "workers": heartbeat.live(client, "worker"),
            "schedulers": heartbeat.live(client, "scheduler"),
        }
    except redis.RedisError as exc:
        error = str(exc)
        return {
            "queues": [{"queue": q, "error": error} for q in QUEUES],
            "workers": [],
            "schedulers": [],
            "redis_error": error,
        }
    finally:
        client.close()


def collect_stats(top: int) -> dict[str, Any]:
    loads = workloads()
    names = dict(Reviewer.select(Reviewer.id, Reviewer.external_id).tuples())
    busiest = sorted(loads.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    live = _from_redis()
    notifications = by_status(Notification)
    return {
        **live,
        "throughput_last_minute": sum(w.get("processed_last_minute", 0) for w in live["workers"]),
        "workload": [{"reviewer": names.get(r) or str(r), "workload": n} for r, n in busiest],
        "batches": by_status(AssignmentBatch),
        "requests": by_status(AssignmentRequest),
        "notifications": notifications,
        "outbox_backlog": {
            "pending": notifications.get("pending", 0),
            "sending": notifications.get("sending", 0),
            "oldest_pending_seconds": round(oldest_pending_notification_age(), 1),
        },
    }


def _workers_table(data: dict[str, Any]) -> Table:
    workers = data["workers"]
    table = Table(
        title=f"{len(workers)} live worker process(es); "
        f"{data['throughput_last_minute']} message(s) finished in the last minute"
    )
    for column in ("host", "pid", "queues", "last minute", "total", "started", "seen"):
        table.add_column(column, justify="right" if column in ("last minute", "total") else "left")
    for w in sorted(workers, key=lambda w: (w["host"], w["pid"])):
        table.add_row(
            Text(w["host"]),
            str(w["pid"]),
            ", ".join(w["queues"]),
            str(w["processed_last_minute"]),
            str(w["processed_total"]),
            w["started_at"],
            w["seen_at"],
        )
    return table


def _schedulers_table(data: dict[str, Any]) -> Table:
    table = Table(title=f"{len(data['schedulers'])} live scheduler(s)")
    for column in ("scheduler", "role", "job", "last run", "outcome", "counts"):
        table.add_column(column)
    for s in sorted(data["schedulers"], key=lambda s: (not s["leader"], s["id"])):
        role = "leader" if s["leader"] else "standby"
        runs = sorted(s["jobs"].items()) or [("-", {})]
        for job, run in runs:
            counts = ", ".join(f"{k}={v}" for k, v in run.get("counts", {}).items())
            table.add_row(
                Text(s["id"]), role, job, run.get("at", "-"), run.get("outcome", "-"), counts
            )
    return table


def stats_command(
    top: Annotated[int, typer.Option(help="How many reviewers to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print live workers and schedulers, queue depths, requests, the outbox backlog, the
    busiest reviewers and batches by status."""
    open_store()
    data = collect_stats(top)
    if as_json:
        print_json(data)
        return
    if "redis_error" in data:
        console.print(f"Redis: {data['redis_error']}", markup=False, style="red")
    console.print(_workers_table(data), _schedulers_table(data))
    queues = Table(title="Queues")
    states = ("ready", "in_progress", "delayed", "dead")
    for column in ("queue", *states):
        queues.add_column(column.replace("_", " "))
    for row in data["queues"]:
        queues.add_row(row["queue"], *(str(row.get(k, row.get("error", "?"))) for k in states))
    backlog = data["outbox_backlog"]
    console.print(
        queues,
        f"Outbox: {backlog['pending']} pending, {backlog['sending']} sending; oldest pending "
        f"{backlog['oldest_pending_seconds']} s",
    )
    work = Table(title=f"Workload (top {top})")
    work.add_column("reviewer")
    work.add_column("open assignments", justify="right")
    for row in data["workload"]:
        work.add_row(row["reviewer"], str(row["workload"]))
    console.print(work)
    for title in ("batches", "requests", "notifications"):
        table = Table(title=title.capitalize())
        table.add_column("status")
        table.add_column("count", justify="right")
        for status, n in sorted(data[title].items()):
            table.add_row(status, str(n))
        console.print(table)
