"""`reviewq conflicts list|dismiss|waive|recuse`: a call manager's conflicts of interest.

As every command, it acts as `--as USERNAME` (by default the first staff user) with the HTTP
API's permissions, through the same use cases, and `--json` prints the API's JSON. A decision
has domain.md's effects on the items (tasks/items/coi.py): dismiss and waive unblock the
pair's coi_blocked items when no other blocking conflict is left; recuse blocks its pending
and accepted items and rejects their reviews.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from api.serializers.links import Links
from api.serializers.pools import conflict_out
from cli.batches import run
from cli.context import AsUser, JsonFlag, acting_user, console, open_store
from cli.output import print_json, wire
from store import User
from store.enums import CoiStatus
from tasks.calls.listing import get_call
from tasks.conflicts import ConflictFilters, get_conflict, list_conflicts
from tasks.items.coi import decide_conflict
from tasks.results import ConflictDecided

conflicts_app = typer.Typer(
    help="Conflicts of interest: list them and decide them.", no_args_is_help=True
)

ConflictId = Annotated[str, typer.Argument(help="The conflict's uuid.")]
Notes = Annotated[str | None, typer.Option("--notes", help="The manager's review notes.")]


@conflicts_app.command("list")
def list_command(
    call: Annotated[
        str | None, typer.Option("--call", help="A call (uuid or external id).")
    ] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="A reviewer's uuid.")] = None,
    proposal: Annotated[str | None, typer.Option("--proposal", help="A proposal's uuid.")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="pending|dismissed|waived|recused")
    ] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """List the conflicts of interest of the calls you manage, newest first."""
    open_store()
    actor = acting_user(as_user)
    call_uuid = str(run(lambda: get_call(actor, call)).uuid) if call else None
    filters = ConflictFilters(
        call_uuid=call_uuid,
        reviewer_uuid=reviewer,
        proposal_uuid=proposal,
        status=tuple(status or ()),
    )
    rows, _ = run(lambda: list_conflicts(actor, filters, page_size=None))
    body = wire([conflict_out(row, Links.public()) for row in rows])
    if as_json:
        print_json(body)
        return
    console.print(conflicts_table(body))


def _decide(
    actor: User, coi: str, decision: CoiStatus, notes: str | None, plan: str | None = None
) -> ConflictDecided:
    return run(
        lambda: decide_conflict(
            actor, coi, decision.value, review_notes=notes, management_plan=plan
        )
    )


def _answer(actor: User, result: ConflictDecided, as_json: bool) -> None:
    body = wire(conflict_out(get_conflict(actor, str(result.conflict.uuid)), Links.public()))
    if as_json:
        print_json(body)
        return
    lines = [
        f"Conflict {body['uuid']} ({body['reviewer_name']} / {body['proposal_name']}): "
        f"{result.previous_status.value} -> {result.status.value}."
    ]
    for label, uuids in (
        ("unblocked item", result.unblocked_item_uuids),
        ("blocked item", result.blocked_item_uuids),
        ("rejected review", result.rejected_review_uuids),
    ):
        lines += [f"{label}: {uuid}" for uuid in uuids]
    console.print("\n".join(lines), markup=False, highlight=False)


@conflicts_app.command("dismiss")
def dismiss_command(
    coi: ConflictId, notes: Notes = None, as_user: AsUser = None, as_json: JsonFlag = False
) -> None:
    """Not a conflict: its blocked items become pending when no other conflict blocks them."""
    open_store()
    actor = acting_user(as_user)
    _answer(actor, _decide(actor, coi, CoiStatus.DISMISSED, notes), as_json)


@conflicts_app.command("waive")
def waive_command(
    coi: ConflictId,
    notes: Notes = None,
    plan: Annotated[str | None, typer.Option("--plan", help="How the conflict is managed.")] = None,
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """A conflict, managed: its blocked items become pending when no other conflict blocks them."""
    open_store()
    actor = acting_user(as_user)
    _answer(actor, _decide(actor, coi, CoiStatus.WAIVED, notes, plan), as_json)


@conflicts_app.command("recuse")
def recuse_command(
    coi: ConflictId, notes: Notes = None, as_user: AsUser = None, as_json: JsonFlag = False
) -> None:
    """An upheld conflict: the reviewer's pending and accepted items for the proposal are
    blocked, their reviews rejected."""
    open_store()
    actor = acting_user(as_user)
    _answer(actor, _decide(actor, coi, CoiStatus.RECUSED, notes), as_json)


def conflicts_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} conflict(s) of interest")
    for column in ("uuid", "call", "reviewer", "proposal", "type", "severity", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["uuid"],
            Text(row["call_name"]),
            Text(row["reviewer_name"]),
            Text(row["proposal_name"]),
            row["coi_type"],
            row["severity"],
            row["status"],
        )
    return table
