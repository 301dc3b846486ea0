"""`reviewq pool list CALL`: a call's reviewer pool, as the acting user may see it (`--as`,
by default the first staff user; the HTTP API's permissions), `--json` the API's JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from api.serializers.links import Links
from api.serializers.pools import pool_entry_out
from cli.batches import run
from cli.context import AsUser, JsonFlag, acting_user, console, open_store
from cli.output import print_json, wire
from tasks.calls.listing import get_call
from tasks.pools.listing import PoolFilters, list_pool_entries

pool_app = typer.Typer(help="A call's reviewer pool.", no_args_is_help=True)


@pool_app.command("list")
def list_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="pending|accepted|declined|expired (repeatable)."),
    ] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """List the call's pool entries: invitation status, workload, conflicts, reviews."""
    open_store()
    actor = acting_user(as_user)
    found = run(lambda: get_call(actor, call))
    filters = PoolFilters(call_uuid=str(found.uuid), invitation_status=tuple(status or ()))
    views, _ = run(lambda: list_pool_entries(actor, filters, ordering=["created"], page_size=None))
    body = wire([pool_entry_out(view, Links.public()) for view in views])
    if as_json:
        print_json(body)
        return
    console.print(pool_table(found.name, body))


def pool_table(call_name: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=Text(f"{len(rows)} pool entry(ies) of {call_name}"))
    for column in ("uuid", "reviewer", "invitation", "open/max", "COIs", "reviews done"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["uuid"],
            Text(f"{row['reviewer_name']} <{row['reviewer_email']}>"),
            row["invitation_status"],
            f"{row['current_assignments']}/{row['max_assignments']}",
            str(row["coi_count"]),
            str(row["reviews_completed"]),
        )
    return table
