"""Assignment batches: the list form, and the retrieve form with `items` in two variants
(seeds/000's items for the CLI, the API's); `items` sits where seeds/000 lists it: after
manager_notes, before the counts. The reviewer's own batches (my-assignment-batches) have
Waldur's slim shapes: a list form without items and a detail form with slim items."""

from __future__ import annotations

from pydantic import BaseModel

from api.serializers.items import (
    ApiItemOut,
    ItemOut,
    MyItemOut,
    api_item_out,
    item_out,
    my_item_out,
)
from api.serializers.links import BATCHES, CALLS, POOL_ENTRIES, USERS, Links
from api.types import WireInstant
from store import AssignmentBatch, User
from store.enums import BatchSource, BatchStatus
from tasks.batches.views import BatchView

#: `status_display`: Waldur's labels (the choices of its AssignmentBatch.status)
BATCH_STATUS_LABELS = {
    BatchStatus.DRAFT: "Draft - pending approval",
    BatchStatus.SENT: "Sent to reviewer",
    BatchStatus.RESPONDED: "Reviewer responded",
    BatchStatus.EXPIRED: "Invitation expired",
    BatchStatus.CANCELLED: "Cancelled by manager",
}
#: `source_display`: Waldur's labels (the choices of its AssignmentBatch.source)
BATCH_SOURCE_LABELS = {
    BatchSource.ALGORITHM: "Algorithm-generated",
    BatchSource.MANUAL: "Manually assigned",
}


class _BatchHead(BaseModel):
    """The fields before `items`."""

    url: str
    uuid: str
    call: str
    call_uuid: str
    call_name: str
    reviewer_pool_entry: str
    reviewer_pool_entry_uuid: str
    reviewer_name: str | None
    reviewer_email: str | None
    reviewer_uuid: str | None
    status: str
    status_display: str
    sent_at: WireInstant | None
    expires_at: WireInstant | None
    responded_at: WireInstant | None
    source: str
    source_display: str
    created_by: str | None
    created_by_name: str
    manager_notes: str


class _BatchTail(BaseModel):
    """The fields after `items`."""

    items_count: int
    items_pending_count: int
    items_accepted_count: int
    items_declined_count: int
    is_expired: bool
    created: WireInstant


class BatchOut(_BatchTail, _BatchHead):
    """A batch in a list (seeds/000 field for field)."""


class _WithItems(_BatchHead):
    items: list[ItemOut]


class BatchDetailOut(_BatchTail, _WithItems):
    """seeds/000's batch with its items (the CLI's `batches show`)."""


class _WithApiItems(_BatchHead):
    items: list[ApiItemOut]


class ApiBatchOut(_BatchTail, _WithApiItems):
    """A batch with its items (retrieve, create, update)."""


class MyBatchOut(BaseModel):
    """One of the reviewer's own batches in their list: Waldur's slim MyAssignmentBatch (no
    items, no hyperlinks)."""

    uuid: str
    call_uuid: str
    call_name: str
    status: str
    status_display: str
    sent_at: WireInstant | None
    expires_at: WireInstant | None
    is_expired: bool
    items_count: int
    items_pending_count: int
    manager_notes: str


class MyBatchDetailOut(MyBatchOut):
    """One of the reviewer's own batches, with its items (Waldur's MyAssignmentBatchDetail)."""

    items: list[MyItemOut]


def _fields(view: BatchView, links: Links) -> dict[str, object]:
    batch: AssignmentBatch = view.batch
    call, entry = batch.call, batch.reviewer_pool_entry
    creator: User | None = batch.created_by
    reviewer, counts = entry.reviewer, view.counts
    return {
        "url": links.of(BATCHES, batch.uuid),
        "uuid": str(batch.uuid),
        "call": links.of(CALLS, call.uuid),
        "call_uuid": str(call.uuid),
        "call_name": call.name,
        "reviewer_pool_entry": links.of(POOL_ENTRIES, entry.uuid),
        "reviewer_pool_entry_uuid": str(entry.uuid),
        "reviewer_name": reviewer.name,
        "reviewer_email": reviewer.email,
        "reviewer_uuid": str(reviewer.uuid),
        "status": batch.status.value,
        "status_display": BATCH_STATUS_LABELS[batch.status],
        "sent_at": batch.sent_at,
        "expires_at": batch.expires_at,
        "responded_at": batch.responded_at,
        "source": batch.source.value,
        "source_display": BATCH_SOURCE_LABELS[batch.source],
        "created_by": links.optional(USERS, creator.uuid if creator else None),
        "created_by_name": (creator.full_name or creator.username) if creator else "",
        "manager_notes": batch.manager_notes,
        "items_count": counts.total,
        "items_pending_count": counts.pending,
        "items_accepted_count": counts.accepted,
        "items_declined_count": counts.declined,
        "is_expired": view.is_expired,
        "created": batch.created,
    }


def batch_out(view: BatchView, links: Links) -> BatchOut:
    """The list form of a batch."""
    return BatchOut.model_validate(_fields(view, links))


def batch_detail_out(view: BatchView, links: Links) -> BatchDetailOut:
    """seeds/000's retrieve form of a batch."""
    items = [item_out(item, links) for item in view.items]
    return BatchDetailOut.model_validate({**_fields(view, links), "items": items})


def api_batch_out(view: BatchView, links: Links) -> ApiBatchOut:
    """The API's retrieve form of a batch."""
    items = [api_item_out(item, links) for item in view.items]
    return ApiBatchOut.model_validate({**_fields(view, links), "items": items})


def my_batch_out(view: BatchView) -> MyBatchOut:
    """The list form of one of the reviewer's own batches."""
    batch: AssignmentBatch = view.batch
    return MyBatchOut(
        uuid=str(batch.uuid),
        call_uuid=str(batch.call.uuid),
        call_name=batch.call.name,
        status=batch.status.value,
        status_display=BATCH_STATUS_LABELS[batch.status],
        sent_at=batch.sent_at,
        expires_at=batch.expires_at,
        is_expired=view.is_expired,
        items_count=view.counts.total,
        items_pending_count=view.counts.pending,
        manager_notes=batch.manager_notes,
    )


def my_batch_detail_out(view: BatchView) -> MyBatchDetailOut:
    """The retrieve form of one of the reviewer's own batches, with its items."""
    items = [my_item_out(item) for item in view.items]
    return MyBatchDetailOut(**my_batch_out(view).model_dump(), items=items)
