"""`reviewq requests list|show`: queued requests, and one request with its result."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.serializers.requests import request_out
from cli.context import console, err_console, open_store
from cli.generate import generate_summary, skipped_table
from cli.ids import full_id
from cli.output import assign_result_tables, print_error, print_json, wire
from store import AssignmentRequest
from store.enums import RequestKind, RequestStatus
from store.lookups import as_uuid

requests_app = typer.Typer(help="Queued assignment requests.", no_args_is_help=True)


@requests_app.command("list")
def list_command(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="queued|running|succeeded|failed (repeatable)"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="The newest N.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the newest requests, with their status and attempts."""
    open_store()
    known = {s.value: s for s in RequestStatus}
    wanted = []
    for value in status or ():
        if value not in known:
            err_console.print(f"--status: {value!r} is not one of {', '.join(known)}", markup=False)
            raise typer.Exit(2)
        wanted.append(known[value])
    query = AssignmentRequest.select().order_by(AssignmentRequest.id.desc()).limit(limit)
    if wanted:
        query = query.where(AssignmentRequest.status.in_(wanted))
    rows = [wire(request_out(request)) for request in query]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} request(s), newest first")
    table.add_column("id", no_wrap=True)
    for column in ("kind", "status", "attempts", "created", "finished"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["kind"],
            row["status"],
            str(row["attempts"]),
            row["created"],
            row["finished_at"] or "-",
        )
    console.print(table)


@requests_app.command("show")
def show(
    request_id: Annotated[
        str, typer.Argument(help="The request's id (uuid, or a unique start of it).")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one request: its status and, once finished, its result."""
    open_store()
    request_id = full_id(AssignmentRequest, request_id, what="request")
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
        print_error(request.result)
