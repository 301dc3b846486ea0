"""`reviewq assign`: send a seeds/004 bulk-assign request through the queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import broker_required, console, err_console, open_store
from cli.output import assign_result_tables, print_error, print_json
from store.enums import RequestStatus
from tasks.producers import enqueue_assign_reviews
from tasks.requests.lifecycle import RequestTimeout, wait_for_request


def _read_body(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        err_console.print(f"--file: cannot read {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        err_console.print(f"--file: {path} is not JSON: {exc.msg} at line {exc.lineno}")
    raise typer.Exit(2)


# The seeds/004 fields each flag sets, so that errors name the flags (a --file names its own).
ASSIGN_FLAGS = {
    "reviewIds": "--review",
    "assignmentStrategy.type": "--strategy",
    "assignmentStrategy.pool": "--reviewer",
    "assignmentStrategy.assignTo": "--reviewer",
    "assignmentStrategy.maxPerReviewer": "--max-per-reviewer",
    "priority": "--priority",
    "deadline": "--deadline",
    "notifyReviewers": "--notify/--no-notify",
}


def _body_from_flags(
    reviews: list[str],
    strategy: str | None,
    reviewers: list[str],
    max_per_reviewer: int | None,
    priority: str | None,
    deadline: str | None,
    notify: bool,
) -> dict[str, Any]:
    if not reviews or not strategy or not reviewers:
        err_console.print("give --file, or --review, --strategy and --reviewer")
        raise typer.Exit(2)
    key = "assignTo" if strategy == "specific" else "pool"
    strategy_body: dict[str, Any] = {"type": strategy, key: reviewers}
    if max_per_reviewer is not None:
        strategy_body["maxPerReviewer"] = max_per_reviewer
    body: dict[str, Any] = {"reviewIds": reviews, "assignmentStrategy": strategy_body}
    if priority:
        body["priority"] = priority
    if deadline:
        body["deadline"] = deadline
    body["notifyReviewers"] = notify
    return body


def assign_command(
    file: Annotated[
        Path | None, typer.Option("--file", help="A seeds/004 request body (JSON).")
    ] = None,
    review: Annotated[list[str], typer.Option("--review", help="A review id (repeat).")] = [],  # noqa: B006
    strategy: Annotated[
        str | None, typer.Option(help="specific|round_robin|load_balanced|expertise_based")
    ] = None,
    reviewer: Annotated[
        list[str], typer.Option("--reviewer", help="A pool reviewer id (repeat).")
    ] = [],  # noqa: B006
    max_per_reviewer: Annotated[int | None, typer.Option("--max-per-reviewer")] = None,
    priority: Annotated[str | None, typer.Option()] = None,
    deadline: Annotated[str | None, typer.Option(help="ISO 8601")] = None,
    notify: Annotated[bool, typer.Option("--notify/--no-notify")] = True,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the seeds/004 response body.")
    ] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the request id and return.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a worker.")] = 120.0,
) -> None:
    """Queue a bulk review assignment (seeds/004) and, unless --no-wait, print its result."""
    body = (
        _read_body(file)
        if file
        else _body_from_flags(
            review, strategy, reviewer, max_per_reviewer, priority, deadline, notify
        )
    )
    open_store()
    with broker_required():
        request = enqueue_assign_reviews(body, idempotency_key=idempotency_key)
    if no_wait:
        print_json(
            {"id": str(request.uuid), "status": request.status.value}
        ) if as_json else console.print(
            f"queued request {request.uuid}; see `reviewq requests show {request.uuid}`"
        )
        return
    try:
        with console.status(f"waiting for request {request.uuid} ..."):
            request = wait_for_request(request.uuid, timeout=timeout)
    except RequestTimeout as exc:
        err_console.print(f"{exc}; is a worker running? (`reviewq worker`)")
        raise typer.Exit(3) from None
    succeeded = request.status == RequestStatus.SUCCEEDED
    if as_json:
        print_json(request.result)
    elif succeeded:
        for table in assign_result_tables(request.result):
            console.print(table)
    else:
        print_error(request.result, None if file else ASSIGN_FLAGS)
    if not succeeded:
        raise typer.Exit(1)
    if not request.result.get("assigned"):
        err_console.print("nothing was assigned: every review failed (see the table)")
        raise typer.Exit(1)
