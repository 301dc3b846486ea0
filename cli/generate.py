"""`reviewq generate` (queued, through the worker) and `reviewq manual-assign` (direct).

Both act as a user: `--as USERNAME`, by default the first staff user.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from api.serializers.answers import manual_out
from cli.context import (
    AsUser,
    JsonFlag,
    acting_user,
    broker_required,
    console,
    err_console,
    open_store,
)
from cli.output import print_error, print_json, wire
from store.enums import RequestStatus
from tasks.batches.manual import create_manual_assignment
from tasks.errors import ReviewqError
from tasks.producers import enqueue_generate
from tasks.requests.lifecycle import RequestTimeout, wait_for_request


def generate_summary(body: dict[str, Any]) -> str:
    """One line saying what a generate-assignments request created."""
    return (
        f"{body['items_created']} item(s) in {body['batches_created']} new draft batch(es); "
        f"{body['proposals_processed']} proposal(s) processed"
    )


def skipped_table(skipped: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Skipped proposals: {len(skipped)}")
    for column in ("proposal", "uuid", "reason"):
        table.add_column(column)
    for row in skipped:
        table.add_row(row["proposal_name"], row["proposal_uuid"], row["reason"])
    return table


GENERATE_FLAGS = {
    "proposal_uuids": "--proposal",
    "reviewers_per_proposal": "--reviewers-per-proposal",
    "algorithm": "--algorithm",
}
MANUAL_FLAGS = {
    "reviewer_pool_entry_uuid": "--pool-entry",
    "proposal_uuids": "--proposal",
    "manager_notes": "--notes",
    "override_workload_limit": "--override-workload-limit",
}


def generate_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    proposal: Annotated[
        list[str] | None, typer.Option("--proposal", help="Only this proposal (repeat).")
    ] = None,
    reviewers_per_proposal: Annotated[
        int | None, typer.Option("--reviewers-per-proposal", help="k (default: the call's).")
    ] = None,
    algorithm: Annotated[
        str | None, typer.Option(help="greedy|optimal|fair (default: the call's).")
    ] = None,
    as_user: AsUser = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    as_json: JsonFlag = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the request id and return.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a worker.")] = 300.0,
) -> None:
    """Queue generate-assignments for a call (draft batches) and, unless --no-wait, print it."""
    open_store()
    user = acting_user(as_user)
    with broker_required():
        request = enqueue_generate(
            call,
            acting_user=str(user.uuid),
            proposal_uuids=proposal or None,
            reviewers_per_proposal=reviewers_per_proposal,
            algorithm=algorithm,
            idempotency_key=idempotency_key,
            requested_by=user.id,
        )
    if no_wait:
        if as_json:
            print_json({"id": str(request.uuid), "status": request.status.value})
        else:
            console.print(f"queued request {request.uuid}; see `reviewq requests show`")
        return
    try:
        with console.status(f"waiting for request {request.uuid} ..."):
            request = wait_for_request(request.uuid, timeout=timeout)
    except RequestTimeout as exc:
        err_console.print(f"{exc}; is a worker running? (`reviewq worker`)")
        raise typer.Exit(3) from None
    _print_generated(request.result, as_json, request.status == RequestStatus.SUCCEEDED)


def _print_generated(body: dict[str, Any], as_json: bool, succeeded: bool) -> None:
    if as_json:
        print_json(body)
    elif succeeded:
        console.print(generate_summary(body))
        if body["skipped_proposals"]:
            console.print(skipped_table(body["skipped_proposals"]))
    else:
        print_error(body, GENERATE_FLAGS)
    if not succeeded:
        raise typer.Exit(1)


def manual_assign_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    pool_entry: Annotated[str, typer.Option("--pool-entry", help="The reviewer's pool entry.")],
    proposal: Annotated[list[str], typer.Option("--proposal", help="A proposal (repeat).")],
    notes: Annotated[str, typer.Option("--notes", help="Notes to the reviewer.")] = "",
    override_workload_limit: Annotated[
        bool, typer.Option("--override-workload-limit", help="Assign above max_assignments.")
    ] = False,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Put proposals in a reviewer's manual draft batch (created if the entry has none)."""
    open_store()
    user = acting_user(as_user)
    try:
        result = create_manual_assignment(
            user,
            call,
            pool_entry,
            proposal,
            manager_notes=notes,
            override_workload_limit=override_workload_limit,
        )
    except ReviewqError as exc:
        if as_json:
            print_json(exc.body())
        else:
            print_error(exc.body(), MANUAL_FLAGS)
        raise typer.Exit(1) from None
    answer = wire(manual_out(result))
    if as_json:
        print_json(answer)
        return
    console.print(f"{answer['items_created']} item(s) in draft batch {answer['batch_uuid']}")
    if answer["skipped_proposals"]:
        console.print(skipped_table(answer["skipped_proposals"]))
