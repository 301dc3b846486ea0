"""The batch JSON of the HTTP API: seeds/000's (tasks/batches/wire.py), each of its `items` with
what the published client's models require besides, as `/api/assignment-items/` gives it
(tasks/items/listing.py): `review_uuid` never null (NIL_UUID), `override_reason`,
`overridden_by_name`, `overridden_at`; and for the reviewer's own batches
(`my-assignment-batches/`, MyAssignmentItem) `proposal_summary`, as much as the invitation
shows. One more query whatever the number of batches and items.
"""

from __future__ import annotations

from typing import Any

from peewee import JOIN

from store import AssignmentItem, Call, Proposal, User
from store.clock import isoformat_z
from store.enums import ItemStatus
from tasks.items.listing import NIL_UUID
from tasks.mail.invitations import SUMMARY_LEVELS

Overrider = User.alias("overrider")


def with_api_items(
    bodies: list[dict[str, Any]], *, summaries: bool = False
) -> list[dict[str, Any]]:
    """The same batch bodies, each item completed in place (see the module); `summaries` adds
    `proposal_summary`."""
    wanted = [item["uuid"] for body in bodies for item in body.get("items", ())]
    extras = _extras(wanted, summaries=summaries) if wanted else {}
    for body in bodies:
        for item in body.get("items", ()):
            if item["review_uuid"] is None:
                item["review_uuid"] = NIL_UUID
            item.update(extras.get(item["uuid"], {}))
    return bodies


def with_api_item(body: dict[str, Any], *, summaries: bool = False) -> dict[str, Any]:
    """One batch body, as `with_api_items`."""
    return with_api_items([body], summaries=summaries)[0]


def _extras(item_uuids: list[str], *, summaries: bool) -> dict[str, dict[str, Any]]:
    query = (
        AssignmentItem.select(
            AssignmentItem.uuid,
            AssignmentItem.status,
            AssignmentItem.override_reason,
            AssignmentItem.override_at,
            Overrider.username,
            Overrider.full_name,
            Proposal.summary,
            Call.proposal_disclosure,
        )
        .join(Overrider, JOIN.LEFT_OUTER, on=(AssignmentItem.override_by == Overrider.id))
        .switch(AssignmentItem)
        .join(Proposal, on=(AssignmentItem.proposal == Proposal.id))
        .join(Call, on=(Proposal.call == Call.id))
        .where(AssignmentItem.uuid.in_(item_uuids))
    )
    return {str(row.uuid): _extra(row, summaries=summaries) for row in query}


def _extra(item: AssignmentItem, *, summaries: bool) -> dict[str, Any]:
    overrider = item.override_by
    out: dict[str, Any] = {
        "override_reason": item.override_reason,
        "overridden_by_name": (overrider.full_name or overrider.username) if overrider else "",
        "overridden_at": isoformat_z(item.override_at),
    }
    if summaries:
        proposal: Proposal = item.proposal
        shown = item.status != ItemStatus.COI_BLOCKED
        allowed = proposal.call.proposal_disclosure in SUMMARY_LEVELS
        out["proposal_summary"] = str(proposal.summary or "") if shown and allowed else ""
    return out
