"""Assignment items: seeds/000's item, the API's (what the published client requires besides),
and the reviewer's own (`my-assignment-batches/`, with the summary the invitation shows)."""

from __future__ import annotations

from pydantic import BaseModel

from api.serializers.links import BATCHES, ITEMS, PROPOSALS, REVIEWS, Links
from api.types import WireInstant
from store import AssignmentItem, Proposal, Review, User
from store.enums import ItemStatus
from tasks.batches.views import ItemView
from tasks.errors import MSG_FORCE_UNBLOCKED
from tasks.results import Unblocked

#: the client parses review_uuid with UUID(...): no review yet is the nil UUID, never null
NIL_UUID = "00000000-0000-0000-0000-000000000000"
#: `status_display`: Waldur's labels (the choices of its AssignmentItem.status)
ITEM_STATUS_LABELS = {
    ItemStatus.PENDING: "Awaiting response",
    ItemStatus.ACCEPTED: "Accepted",
    ItemStatus.DECLINED: "Declined",
    ItemStatus.EXPIRED: "Expired without response",
    ItemStatus.REASSIGNED: "Reassigned to another reviewer",
    ItemStatus.COI_BLOCKED: "Blocked due to COI",
}


class ItemOut(BaseModel):
    """seeds/000's item, field for field (the CLI prints it)."""

    url: str
    uuid: str
    batch: str
    proposal: str
    proposal_uuid: str
    proposal_name: str
    proposal_slug: str
    status: str
    status_display: str
    affinity_score: float | None
    has_coi: bool
    coi_count: int
    responded_at: WireInstant | None
    decline_reason: str
    review: str | None
    review_uuid: str | None
    reassign_count: int
    created: WireInstant


class ApiItemOut(ItemOut):
    """`/api/assignment-items/` and a batch's items in the API: `review_uuid` never null."""

    review_uuid: str
    override_reason: str
    overridden_by_name: str
    overridden_at: WireInstant | None


class MyItemOut(BaseModel):
    """An item of one of the reviewer's own batches: Waldur's slim MyAssignmentItem, with the
    summary the invitation shows."""

    uuid: str
    proposal_uuid: str
    proposal_name: str
    proposal_slug: str
    proposal_summary: str
    status: str
    status_display: str
    affinity_score: float | None
    has_coi: bool


class ForceUnblockedOut(ApiItemOut):
    """The item as it now is (what the published client parses), with `detail`."""

    detail: str


def _seed_fields(view: ItemView, links: Links) -> dict[str, object]:
    item: AssignmentItem = view.item
    proposal: Proposal = item.proposal
    review: Review | None = item.review
    return {
        "url": links.of(ITEMS, item.uuid),
        "uuid": str(item.uuid),
        "batch": links.of(BATCHES, item.batch.uuid),
        "proposal": links.of(PROPOSALS, proposal.uuid),
        "proposal_uuid": str(proposal.uuid),
        "proposal_name": proposal.name,
        "proposal_slug": proposal.slug,
        "status": item.status.value,
        "status_display": ITEM_STATUS_LABELS[item.status],
        "affinity_score": item.affinity_score,
        "has_coi": bool(item.has_coi),
        "coi_count": view.coi_count,
        "responded_at": item.responded_at,
        "decline_reason": item.decline_reason,
        "review": links.optional(REVIEWS, review.uuid if review else None),
        "review_uuid": str(review.uuid) if review else None,
        "reassign_count": item.reassign_count,
        "created": item.created,
    }


def _api_fields(view: ItemView, links: Links) -> dict[str, object]:
    fields = _seed_fields(view, links)
    overrider: User | None = view.item.override_by
    fields["review_uuid"] = fields["review_uuid"] or NIL_UUID
    fields["override_reason"] = view.item.override_reason
    fields["overridden_by_name"] = (overrider.full_name or overrider.username) if overrider else ""
    fields["overridden_at"] = view.item.override_at
    return fields


def item_out(view: ItemView, links: Links) -> ItemOut:
    """seeds/000's JSON of an item."""
    return ItemOut.model_validate(_seed_fields(view, links))


def api_item_out(view: ItemView, links: Links) -> ApiItemOut:
    """The API's JSON of an item."""
    return ApiItemOut.model_validate(_api_fields(view, links))


def my_item_out(view: ItemView) -> MyItemOut:
    """The JSON of an item of the reviewer's own batch (no hyperlinks: Waldur's slim shape)."""
    item: AssignmentItem = view.item
    proposal: Proposal = item.proposal
    return MyItemOut(
        uuid=str(item.uuid),
        proposal_uuid=str(proposal.uuid),
        proposal_name=proposal.name,
        proposal_slug=proposal.slug,
        proposal_summary=view.summary_for_reviewer,
        status=item.status.value,
        status_display=ITEM_STATUS_LABELS[item.status],
        affinity_score=item.affinity_score,
        has_coi=bool(item.has_coi),
    )


def force_unblocked_out(result: Unblocked, view: ItemView, links: Links) -> ForceUnblockedOut:
    """The unblocked item read after the commit, with the action's status and detail."""
    fields = _api_fields(view, links)
    fields["status"] = result.status.value
    return ForceUnblockedOut.model_validate({**fields, "detail": MSG_FORCE_UNBLOCKED})
