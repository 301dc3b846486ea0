"""`reviewq requests show ID`: a queued request and its result."""

from __future__ import annotations

from typing import Annotated

import typer

from api.serializers.requests import request_out
from cli.context import console, err_console, open_store
from cli.generate import generate_summary, skipped_table
from cli.output import assign_result_tables, print_error_body, print_json, wire
from store import AssignmentRequest
from store.enums import RequestKind, RequestStatus
from store.lookups import as_uuid

requests_app = typer.Typer(help="Queued assignment requests.", no_args_is_help=True)


@requests_app.command("show")
def show(
    request_id: Annotated[str, typer.Argument(help="The request's id (uuid).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one request: its status and, once finished, its result."""
    open_store()
    parsed = as_uuid(request_id)
    request = AssignmentRequest.get_or_none(AssignmentRequest.uuid == parsed) if parsed else None
    if request is None:
        err_console.print(f"ID: no request {request_id!r}")
        raise typer.Exit(1)
    data = wire(request_out(request))
    if as_json:
        print_json(data)
        return
    console.print(
        f"request {data['id']} ({data['kind']}): [bold]{data['status']}[/] "
        f"after {data['attempts']} attempt(s); created {data['created']}, "
        f"finished {data['finished_at'] or '-'}"
    )
    succeeded = request.status == RequestStatus.SUCCEEDED
    if succeeded and request.kind == RequestKind.GENERATE_ASSIGNMENTS:
        console.print(generate_summary(request.result))
        if request.result["skipped_proposals"]:
            console.print(skipped_table(request.result["skipped_proposals"]))
    elif succeeded and request.result:
        for table in assign_result_tables(request.result):
            console.print(table)
    elif request.status == RequestStatus.FAILED and request.result:
        print_error_body(request.result)
