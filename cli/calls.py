"""`reviewq calls list|show`: the calls the acting user may see (`--as`, by default the first
staff user; the HTTP API's visibility), and one call with its configuration and counts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from api.serializers.links import Links
from api.serializers.records import call_out
from cli.batches import run
from cli.context import AsUser, JsonFlag, acting_user, console, open_store
from cli.output import print_json, wire
from store import Call
from tasks.calls.listing import get_call, list_calls
from tasks.stats import call_counts

calls_app = typer.Typer(help="Calls for proposals.", no_args_is_help=True)

CONFIG_FIELDS = (
    "reviewers_per_proposal",
    "algorithm",
    "assignment_expiration_days",
    "send_reminder_before_expiry_days",
    "auto_reassign_on_decline",
    "max_auto_reassign_attempts",
    "min_affinity_threshold",
    "proposal_disclosure",
)


def _config(call: Call) -> dict[str, Any]:
    values = {name: getattr(call, name) for name in CONFIG_FIELDS}
    return {k: getattr(v, "value", v) for k, v in values.items()}


@calls_app.command("list")
def list_command(as_user: AsUser = None, as_json: JsonFlag = False) -> None:
    """List the calls you may see, with their proposals, pool and batches counted."""
    open_store()
    actor = acting_user(as_user)
    calls, _ = run(lambda: list_calls(actor, ordering=["name"], page_size=None))
    rows = []
    for call in calls:
        counts = call_counts(call)
        rows.append(
            {
                **wire(call_out(call, Links.public())),
                "proposals": sum(counts.proposals.values()),
                "pool_accepted": counts.pool.get("accepted", 0),
                "batches": counts.batches,
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} call(s)")
    table.add_column("uuid", no_wrap=True)
    for column in ("id", "name", "state", "proposals", "pool (accepted)", "batches"):
        table.add_column(column)
    for row in rows:
        batches = ", ".join(f"{k} {v}" for k, v in sorted(row["batches"].items())) or "-"
        table.add_row(
            row["uuid"],
            Text(row["slug"] or "-"),
            Text(row["name"]),
            row["state"],
            str(row["proposals"]),
            str(row["pool_accepted"]),
            batches,
        )
    console.print(table)


@calls_app.command("show")
def show_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    as_user: AsUser = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a call: its configuration, and its proposals, pool, batches and conflicts counted."""
    open_store()
    actor = acting_user(as_user)
    found = run(lambda: get_call(actor, call))
    body = {
        **wire(call_out(found, Links.public())),
        "config": _config(found),
        "counts": asdict(call_counts(found)),
    }
    if as_json:
        print_json(body)
        return
    console.print(Text(f"{body['name']} ({body['uuid']}, {body['state']})", style="bold"))
    if body["description"]:
        console.print(body["description"], markup=False, highlight=False)
    config = Table(title="Configuration")
    config.add_column("setting")
    config.add_column("value")
    for key, value in body["config"].items():
        config.add_row(key, str(value))
    counts = Table(title="Counts")
    for column in ("of", "by status"):
        counts.add_column(column)
    for kind, by_status in body["counts"].items():
        counts.add_row(kind, ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "-")
    console.print(config, counts)
