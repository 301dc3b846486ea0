"""`reviewq batches ...`: list, show, send, cancel and extend assignment batches.

The commands act as a staff user (`--as USERNAME`, by default the first staff user), through
the same use cases as the HTTP API, and `--json` prints the same JSON. Mail is handed to the
workers only after the use case has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import dramatiq
import redis
import typer
from rich.table import Table
from rich.text import Text

from api.serializers.answers import cancelled_out, extended_out, sent_all_out, sent_out
from api.serializers.batches import batch_detail_out, batch_out
from api.serializers.links import Links
from cli.context import AsUser, JsonFlag, acting_user, console, err_console, open_store
from cli.ids import full_id
from cli.output import print_json, wire
from store import AssignmentBatch
from tasks.batches.actions import cancel_batch, extend_deadline
from tasks.batches.listing import BatchFilters, get_batch, list_batches
from tasks.batches.send import send_all, send_batch
from tasks.errors import FieldRejected, ReviewqError
from tasks.results import UseCaseResult, deliver

batches_app = typer.Typer(
    help="Assignment batches: invitations to reviewers.", no_args_is_help=True
)

T = TypeVar("T")
BatchId = Annotated[str, typer.Argument(help="The batch's uuid (or a unique start of it).")]


def fail(message: str) -> NoReturn:
    err_console.print(message, markup=False, highlight=False)
    raise typer.Exit(1)


def run(use_case: Callable[[], T], flags: Mapping[str, str] | None = None) -> T:
    """Run a use case; a refusal prints its domain message and exits 1. A refused field is
    named by its command-line flag where `flags` maps the API's field name to one."""
    try:
        return use_case()
    except FieldRejected as exc:
        fail(f"{(flags or {}).get(exc.field, exc.field)}: {exc.message}")
    except ReviewqError as exc:
        fail(exc.message)


def deliver_after_commit(result: UseCaseResult) -> None:
    """Hand the new mail to the workers; if the broker is unreachable the rows stay pending
    and the scheduler's outbox sweep delivers them later."""
    try:
        deliver(result)
    except (redis.RedisError, dramatiq.errors.DramatiqError, OSError) as exc:
        err_console.print(
            "warning: mail queued in the outbox but not handed to the workers "
            f"({type(exc).__name__}); the scheduler's sweep will deliver it",
            markup=False,
        )


def finish(result: UseCaseResult, body: dict[str, Any], as_json: bool, summary: str) -> None:
    """Deliver the mail of `result`, then print its answer `body` (the API's) or `summary`."""
    deliver_after_commit(result)
    if as_json:
        print_json(body)
    else:
        console.print(summary, markup=False, highlight=False)


@batches_app.command("list")
def list_command(
    call: Annotated[
        str | None, typer.Option("--call", help="A call (uuid or external id).")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="draft|sent|responded|expired|cancelled")
    ] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """List the batches, newest first."""
    open_store()
    actor = acting_user(as_user)
    filters = BatchFilters(call_uuid=call, status=tuple(status or ()))
    views, _ = run(lambda: list_batches(actor, filters, page_size=None))
    rows = wire([batch_out(view, Links.public()) for view in views])
    if as_json:
        print_json(rows)
        return
    console.print(batches_table(rows))


@batches_app.command("show")
def show_command(batch: BatchId, as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """Show one batch with its items."""
    open_store()
    actor = acting_user(as_user)
    batch = full_id(AssignmentBatch, batch, what="batch")
    body = wire(batch_detail_out(run(lambda: get_batch(actor, batch)), Links.public()))
    if as_json:
        print_json(body)
        return
    console.print(batches_table([body]))
    if body["manager_notes"]:
        console.print(f"Note: {body['manager_notes']}", markup=False, highlight=False)
    console.print(items_table(body["items"]))


@batches_app.command("send")
def send_command(
    batch: BatchId,
    note: Annotated[str | None, typer.Option("--note", help="Replace the manager's note.")] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a draft batch: the reviewer gets the invitation e-mail."""
    open_store()
    actor = acting_user(as_user)
    batch = full_id(AssignmentBatch, batch, what="batch")
    result = run(lambda: send_batch(actor, batch, manager_notes=note))
    body = wire(sent_out(result))
    finish(result, body, as_json, f"{body['detail']} Expires at {body['expires_at']}.")


@batches_app.command("send-all")
def send_all_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    batch: Annotated[
        list[str] | None, typer.Option("--batch", help="Only this batch (repeatable).")
    ] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Send every draft batch of a call that has a pending item."""
    open_store()
    actor = acting_user(as_user)
    batches = [full_id(AssignmentBatch, b, what="batch") for b in batch or ()]
    result = run(lambda: send_all(actor, call, batches or None))
    body = wire(sent_all_out(result))
    lines = [f"{body['batches_sent']} batch(es) sent."]
    # the JSON counts the skipped batches; the typed result still says which and why
    lines += [f"skipped {s.batch_uuid}: {s.reason}" for s in result.skipped]
    finish(result, body, as_json, "\n".join(lines))


@batches_app.command("cancel")
def cancel_command(batch: BatchId, as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """Cancel a draft or sent batch."""
    open_store()
    actor = acting_user(as_user)
    batch = full_id(AssignmentBatch, batch, what="batch")
    result = run(lambda: cancel_batch(actor, batch))
    body = wire(cancelled_out(result))
    finish(result, body, as_json, body["message"])


@batches_app.command("extend")
def extend_command(
    batch: BatchId,
    expires_at: Annotated[
        str, typer.Option("--expires-at", help="The new deadline, ISO 8601 (UTC if no offset).")
    ],
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Move the deadline of a sent or expired batch (an expired one is sent again)."""
    open_store()
    actor = acting_user(as_user)
    batch = full_id(AssignmentBatch, batch, what="batch")
    try:
        deadline = datetime.fromisoformat(expires_at)
    except ValueError:
        fail(f"expires_at: {expires_at!r} is not an ISO 8601 date-time")
    result = run(lambda: extend_deadline(actor, batch, deadline))
    body = wire(extended_out(result))
    summary = f"Deadline now {body['expires_at']}; the batch is {body['status']}."
    finish(result, body, as_json, summary)


def batches_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} assignment batch(es)")
    table.add_column("uuid", no_wrap=True)  # whole, so that it can be copied
    for column in ("call", "reviewer", "status", "source", "pending/items", "expires"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["uuid"],
            Text(row["call_name"]),
            Text(f"{row['reviewer_name']} <{row['reviewer_email']}>"),
            row["status_display"],
            row["source_display"],
            f"{row['items_pending_count']}/{row['items_count']}",
            row["expires_at"] or "-",
        )
    return table


def items_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(items)} item(s)")
    table.add_column("uuid", no_wrap=True)
    for column in ("proposal", "status", "affinity", "COI", "review"):
        table.add_column(column)
    for item in items:
        score = item["affinity_score"]
        table.add_row(
            item["uuid"],
            Text(item["proposal_name"]),
            item["status_display"],
            "-" if score is None else f"{score:.2f}",
            str(item["coi_count"]) if item["has_coi"] else "",
            item["review_uuid"] or "",
        )
    return table
