"""`reviewq reviewers list`: every reviewer with their workload and the pools they are in."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.context import console, open_store
from cli.output import print_json
from store import Call, Reviewer, ReviewerPoolEntry
from store.workload import workloads


def reviewers_list_command(
    call: Annotated[
        str | None, typer.Option("--call", help="Only the pool of this call (uuid or external id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the reviewers: open assignments across all calls, and each pool they are in."""
    open_store()
    pools: dict[int, list[str]] = {}
    query = ReviewerPoolEntry.select(
        ReviewerPoolEntry.reviewer,
        Call.external_id,
        Call.uuid,
        ReviewerPoolEntry.invitation_status,
        ReviewerPoolEntry.max_assignments,
    ).join(Call)
    for reviewer_id, external_id, call_uuid, invitation, cap in query.tuples():
        name = external_id or str(call_uuid)
        if call in (None, name, str(call_uuid)):
            pools.setdefault(reviewer_id, []).append(f"{name} ({invitation}, max {cap})")
    loads = workloads()
    reviewers = Reviewer.select().order_by(Reviewer.external_id, Reviewer.id)
    rows = [
        {
            "uuid": str(r.uuid),
            "external_id": r.external_id,
            "name": r.name,
            "email": r.email,
            "organization": r.organization,
            "available_for_reviews": r.available_for_reviews,
            "workload": loads.get(r.id, 0),
            "pools": pools.get(r.id, []),
        }
        for r in reviewers
        if call is None or r.id in pools
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} reviewer(s)")
    table.add_column("id", no_wrap=True)
    for column in ("name", "organization", "workload", "pools"):
        table.add_column(column, justify="right" if column == "workload" else "left")
    for row in rows:
        available = "" if row["available_for_reviews"] else " (unavailable)"
        table.add_row(
            row["external_id"] or row["uuid"],
            Text(f"{row['name']}{available}"),
            Text(row["organization"]),
            str(row["workload"]),
            Text("; ".join(row["pools"])),
        )
    console.print(table)
