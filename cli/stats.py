"""`reviewq stats`: queue depths, workload per reviewer, batches, requests and mail by status."""

from __future__ import annotations

from typing import Annotated, Any

import redis
import typer
from rich.table import Table

from cli.context import console, open_store
from cli.output import print_json
from config import get_settings
from store import AssignmentBatch, AssignmentRequest, Notification, Reviewer
from store.workload import workloads
from tasks.stats import by_status
from workers.admin import queue_depths
from workers.redis_keys import QUEUES


def _queues() -> list[dict[str, Any]]:
    client = redis.Redis.from_url(get_settings().effective_redis_url, socket_timeout=2)
    try:
        return [vars(d) for d in queue_depths(client)]
    except redis.RedisError as exc:
        return [{"queue": q, "error": str(exc)} for q in QUEUES]
    finally:
        client.close()


def collect_stats(top: int) -> dict[str, Any]:
    loads = workloads()
    names = dict(Reviewer.select(Reviewer.id, Reviewer.external_id).tuples())
    busiest = sorted(loads.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "queues": _queues(),
        "workload": [{"reviewer": names.get(r) or str(r), "workload": n} for r, n in busiest],
        "batches": by_status(AssignmentBatch),
        "requests": by_status(AssignmentRequest),
        "notifications": by_status(Notification),
    }


def stats_command(
    top: Annotated[int, typer.Option(help="How many reviewers to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print queue depths, the busiest reviewers and counts by status."""
    open_store()
    data = collect_stats(top)
    if as_json:
        print_json(data)
        return
    queues = Table(title="Queues")
    states = ("ready", "in_progress", "delayed", "dead")
    for column in ("queue", *states):
        queues.add_column(column.replace("_", " "))
    for row in data["queues"]:
        queues.add_row(row["queue"], *(str(row.get(k, row.get("error", "?"))) for k in states))
    work = Table(title=f"Workload (top {top})")
    work.add_column("reviewer")
    work.add_column("open assignments", justify="right")
    for row in data["workload"]:
        work.add_row(row["reviewer"], str(row["workload"]))
    console.print(queues, work)
    for title in ("batches", "requests", "notifications"):
        table = Table(title=title.capitalize())
        table.add_column("status")
        table.add_column("count", justify="right")
        for status, n in sorted(data[title].items()):
            table.add_row(status, str(n))
        console.print(table)
