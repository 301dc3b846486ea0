"""`reviewq items ...`: list, show and answer assignment items, as the HTTP API does.

Each command acts as a named user (`--as USERNAME`, by default the first staff user) through the
use cases of the API, with its permissions: a reviewer accepts and declines their own items, a
call manager reassigns, force-unblocks, suggests and deletes. `--json` prints the API's JSON.
Ids may be given as any unique start of the uuid (cli/ids.py).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from api.serializers.answers import accepted_out, declined_out, reassigned_out, suggestions_out
from api.serializers.items import api_item_out, force_unblocked_out
from api.serializers.links import Links
from cli.batches import finish, items_table, run
from cli.context import AsUser, JsonFlag, acting_user, console, open_store
from cli.ids import full_id
from cli.output import print_json, wire
from store import AssignmentBatch, AssignmentItem, ReviewerPoolEntry
from tasks.items.answers import accept_item, decline_item, delete_item
from tasks.items.coi import force_unblock
from tasks.items.listing import ItemFilters, get_item, list_items
from tasks.items.reassign import reassign_item, suggest_alternatives

items_app = typer.Typer(
    help="Assignment items: one proposal in a reviewer's batch.", no_args_is_help=True
)

ItemId = Annotated[str, typer.Argument(help="The item's uuid (or a unique start of it).")]
# The API's field names, as a person types them on this command line.
FLAGS = {
    "override_reason": "--reason",
    "reason": "--reason",
    "reviewer_pool_entry_uuid": "--to",
    "manager_notes": "--note",
}


def _item(token: str) -> str:
    return full_id(AssignmentItem, token, what="item")


@items_app.command("list")
def list_command(
    batch: Annotated[str | None, typer.Option("--batch", help="A batch's uuid.")] = None,
    call: Annotated[str | None, typer.Option("--call", help="A call (uuid).")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="pending|accepted|declined|expired|reassigned|coi_blocked (repeatable)"
        ),
    ] = None,
    has_coi: Annotated[
        bool | None, typer.Option("--has-coi/--no-coi", help="Only items with (without) a COI.")
    ] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """List the items the acting user may see."""
    open_store()
    actor = acting_user(as_user)
    filters = ItemFilters(
        batch_uuid=full_id(AssignmentBatch, batch, what="batch") if batch else None,
        call_uuid=call,
        status=tuple(status or ()),
        has_coi=has_coi,
    )
    views, _ = run(lambda: list_items(actor, filters, page_size=None), FLAGS)
    rows = wire([api_item_out(view, Links.public()) for view in views])
    if as_json:
        print_json(rows)
        return
    console.print(items_table(rows))


@items_app.command("show")
def show_command(item: ItemId, as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """Show one item."""
    open_store()
    actor = acting_user(as_user)
    body = wire(api_item_out(run(lambda: get_item(actor, _item(item)), FLAGS), Links.public()))
    if as_json:
        print_json(body)
        return
    console.print(items_table([body]))
    for label, key in (("Decline reason", "decline_reason"), ("Override", "override_reason")):
        if body.get(key):
            console.print(f"{label}: {body[key]}", markup=False, highlight=False)


@items_app.command("accept")
def accept_command(item: ItemId, as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """Accept a pending item of your own batch (the review is created)."""
    open_store()
    actor = acting_user(as_user)
    result = run(lambda: accept_item(actor, _item(item)), FLAGS)
    body = wire(accepted_out(result))
    finish(result, body, as_json, f"{body['detail']} Review {body['review_uuid']}.")


@items_app.command("decline")
def decline_command(
    item: ItemId,
    reason: Annotated[str, typer.Option("--reason", help="Why (the managers see it).")] = "",
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Decline a pending item of your own batch."""
    open_store()
    actor = acting_user(as_user)
    result = run(lambda: decline_item(actor, _item(item), reason=reason), FLAGS)
    body = wire(declined_out(result))
    finish(result, body, as_json, body["detail"])


@items_app.command("reassign")
def reassign_command(
    item: ItemId,
    to: Annotated[
        str,
        typer.Option("--to", help="The pool entry's uuid (see `reviewq items suggest ITEM`)."),
    ],
    note: Annotated[str, typer.Option("--note", help="The manager's note.")] = "",
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Give a declined or expired item to another pool entry (a new draft batch)."""
    open_store()
    actor = acting_user(as_user)
    entry = full_id(ReviewerPoolEntry, to, what="pool entry")
    result = run(lambda: reassign_item(actor, _item(item), entry, manager_notes=note), FLAGS)
    body = wire(reassigned_out(result))
    summary = f"{body['detail']} New item {body['new_item_uuid']} in {body['new_batch_uuid']}."
    finish(result, body, as_json, summary)


@items_app.command("force-unblock")
def force_unblock_command(
    item: ItemId,
    reason: Annotated[str, typer.Option("--reason", help="Why the conflict is overridden.")],
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a COI-blocked item pending despite its conflict (recorded)."""
    open_store()
    actor = acting_user(as_user)
    uuid = _item(item)
    result = run(lambda: force_unblock(actor, uuid, reason), FLAGS)
    body = wire(force_unblocked_out(result, get_item(actor, uuid), Links.public()))
    finish(result, body, as_json, body["detail"])


@items_app.command("suggest")
def suggest_command(item: ItemId, as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """The pool entries that could take the item's proposal, best first."""
    open_store()
    actor = acting_user(as_user)
    body = wire(suggestions_out(run(lambda: suggest_alternatives(actor, _item(item)), FLAGS)))
    if as_json:
        print_json(body)
        return
    table = Table(title=f"{len(body['suggestions'])} suggestion(s) for {body['item_uuid']}")
    for column in ("pool entry", "reviewer", "affinity", "workload", "capacity left"):
        table.add_column(column, no_wrap=column == "pool entry")
    for row in body["suggestions"]:
        score = row["affinity_score"]
        table.add_row(
            row["pool_entry_uuid"],
            Text(row["reviewer_name"]),
            "-" if score is None else f"{score:.2f}",
            str(row["workload"]),
            str(row["capacity_left"]),
        )
    console.print(table)


@items_app.command("delete")
def delete_command(item: ItemId, as_user: AsUser = None) -> None:
    """Delete an item that may be deleted (domain.md)."""
    open_store()
    actor = acting_user(as_user)
    uuid = _item(item)
    run(lambda: delete_item(actor, uuid), FLAGS)
    console.print(f"Item {uuid} deleted.", markup=False, highlight=False)
