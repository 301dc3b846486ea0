"""`/respond/<token>`: the reviewer answers one batch from the invitation's link, no login.

The token (tasks/links.py) is the only credential; every answer goes through the API's use
cases (tasks/items/answers.py) with the link's grant as the actor, so the same rules, messages,
COI refusal and automatic reassignment apply, and the grant reaches no other batch. Answering
an item again the same way is harmless: the page just shows the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from store import AssignmentBatch
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tasks.batches.views import BatchView, ItemView, batch_view
from tasks.errors import NotFound, ReviewqError
from tasks.grants import BatchGrant
from tasks.items.answers import accept_item, decline_item
from tasks.links import read_response_token
from tasks.mail.invitations import disclosed_proposal
from tasks.results import deliver
from tasks.rows import find_item
from web.rendering import error_page, page, redirect
from web.security import checked_form

router = APIRouter()

REASON_MAX_CHARS = 2000


def _batch_of(token: str) -> tuple[BatchGrant, AssignmentBatch]:
    grant = read_response_token(token)
    batch = AssignmentBatch.get_or_none(AssignmentBatch.id == grant.batch_id)
    if batch is None or batch.status == BatchStatus.DRAFT:
        raise NotFound("invitation")
    return grant, batch


def _state(view: BatchView) -> str:
    """open, expired, cancelled or answered: what the page says and whether it has buttons."""
    status = view.batch.status
    if status == BatchStatus.CANCELLED:
        return "cancelled"
    if status == BatchStatus.EXPIRED or (status == BatchStatus.SENT and view.is_expired):
        return "expired"
    if status == BatchStatus.RESPONDED or view.counts.pending == 0:
        return "answered"
    return "open"


def answer_label(item: ItemView) -> str:
    """The item's state in the reviewer's words."""
    status = item.item.status
    if status == ItemStatus.REASSIGNED:
        return "Declined" if item.item.responded_at is not None else "Expired"
    return {
        ItemStatus.PENDING: "Awaiting your answer",
        ItemStatus.ACCEPTED: "Accepted",
        ItemStatus.DECLINED: "Declined",
        ItemStatus.EXPIRED: "Expired",
        ItemStatus.COI_BLOCKED: "On hold",
    }[ItemStatus(status)]


def _cards(view: BatchView, state: str) -> list[dict[str, Any]]:
    disclosure = view.batch.call.proposal_disclosure
    lapsed = state in ("expired", "cancelled")
    return [
        {
            "uuid": str(item.item.uuid),
            "status": "expired"
            if lapsed and item.item.status == ItemStatus.PENDING
            else str(item.item.status),
            "label": "Not answered"
            if lapsed and item.item.status == ItemStatus.PENDING
            else answer_label(item),
            "proposal": disclosed_proposal(item.item, disclosure),
            "decline_reason": item.item.decline_reason or "",
        }
        for item in view.items
    ]


@router.get("/respond/{token}", response_class=HTMLResponse)
def response_page(request: Request, token: str) -> Response:
    try:
        _grant, batch = _batch_of(token)
    except ReviewqError as exc:
        return _refused(request, exc)
    view = batch_view(batch)
    state = _state(view)
    status_code = 410 if state in ("expired", "cancelled") else 200
    return page(
        request,
        "respond.html.j2",
        status_code=status_code,
        title=f"Invitation: {view.batch.call.name}",
        view=view,
        batch=view.batch,
        call=view.batch.call,
        reviewer=view.batch.reviewer_pool_entry.reviewer,
        state=state,
        cards=_cards(view, state),
        token=token,
        reason_max=REASON_MAX_CHARS,
    )


@router.post("/respond/{token}/items/{item_uuid}/{answer}")
async def answer_item(request: Request, token: str, item_uuid: str, answer: str) -> Response:
    try:
        form = await checked_form(request)
        grant, _batch = _batch_of(token)
        if answer not in ("accept", "decline"):
            raise NotFound("answer")
        reason = str(form.get("reason") or "").strip()[:REASON_MAX_CHARS]
        notice = _answer(grant, item_uuid, answer, reason)
    except ReviewqError as exc:
        if exc.code in ("RULE_VIOLATION", "FIELD_REJECTED"):
            return redirect(f"/respond/{token}", exc.message, error=True)
        return _refused(request, exc)
    return redirect(f"/respond/{token}#item-{item_uuid}", notice)


def _answer(grant: BatchGrant, item_uuid: str, answer: str, reason: str) -> str:
    """Run the use case; an item already answered this way is no error (a second click)."""
    found = find_item(item_uuid)
    if found.batch_id != grant.batch_id:
        raise NotFound("assignment item")
    title = found.proposal.name
    wanted = ItemStatus.ACCEPTED if answer == "accept" else ItemStatus.DECLINED
    reassigned_after_decline = (
        found.status == ItemStatus.REASSIGNED and found.responded_at is not None
    )
    if found.status == wanted or (wanted == ItemStatus.DECLINED and reassigned_after_decline):
        return f"You had already {wanted.value} “{title}”; nothing changed."
    if answer == "accept":
        deliver(accept_item(grant, item_uuid, now=utcnow()))
        return f"You accepted “{title}”. Thank you: the review is now yours."
    deliver(decline_item(grant, item_uuid, reason=reason, now=utcnow()))
    return f"You declined “{title}”. The call's managers have been told."


def _refused(request: Request, exc: ReviewqError) -> HTMLResponse:
    if exc.code == "INVALID_LINK":
        return error_page(request, 400, "This link does not work", exc.message)
    if exc.code == "CSRF_REFUSED":
        return error_page(request, 403, "Form refused", exc.message)
    if exc.http_status == 404:
        return error_page(
            request,
            404,
            "Not found",
            "This link does not lead to anything you can answer. "
            "Open the link from your invitation e-mail again.",
        )
    return error_page(request, exc.http_status, "Not possible", exc.message)
