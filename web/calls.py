"""A call's page for its managers (staff: every call) and the actions on it.

Everything goes through the API's use cases and permissions: a manager of another call gets
404, a reviewer 403. Every action is a POST form with a CSRF token, answered with a redirect
back to the page and a one-line notice (the use case's own message when it refuses).
generate is a queued request: the page of the request refreshes itself until it has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from store import AssignmentRequest, User
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind, RequestStatus
from store.lookups import as_uuid
from tasks.access import require_call_manager
from tasks.batches.actions import extend_deadline
from tasks.batches.send import send_all
from tasks.errors import FieldRejected, ReviewqError
from tasks.items.coi import decide_conflict, force_unblock
from tasks.items.reassign import reassign_item
from tasks.overview import call_overview
from tasks.producers import enqueue_generate
from tasks.results import deliver
from tasks.rules import COI_DECISIONS
from web.account import login_redirect, signed_in
from web.charts import coverage_bar, load_histogram
from web.rendering import error_page, page, redirect
from web.security import checked_form

router = APIRouter()

REFRESH_SECONDS = 1
TEXT_MAX_CHARS = 2000


def _not_found(request: Request, user: User) -> HTMLResponse:
    return error_page(
        request, 404, "Not found", "There is no such call among those you manage.", user=user
    )


def _refusal(request: Request, user: User, exc: ReviewqError) -> HTMLResponse:
    if exc.http_status == 404:
        return _not_found(request, user)
    if exc.code == "CSRF_REFUSED":
        return error_page(request, 403, "Form refused", exc.message, user=user)
    heading = "Not allowed" if exc.http_status == 403 else "Not possible"
    return error_page(request, exc.http_status, heading, exc.message, user=user)


@router.get("/calls/{call_uuid}", response_class=HTMLResponse)
def call_page(request: Request, call_uuid: str) -> Response:
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    try:
        overview = call_overview(user, call_uuid)
    except ReviewqError as exc:
        return _refusal(request, user, exc)
    return page(
        request,
        "call.html.j2",
        user=user,
        title=overview.call.name,
        o=overview,
        call=overview.call,
        bar=coverage_bar(overview.coverage),
        histogram=load_histogram(overview.loads),
        decisions=[d.value for d in COI_DECISIONS],
    )


async def _act(
    request: Request, call_uuid: str, action: Callable[[User, dict[str, str]], str | Response]
) -> Response:
    """Sign-in, CSRF and the call's permission first; then `action(user, form)`, whose text is
    the notice shown on the call's page (a refusal's message is shown as an error)."""
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    back = f"/calls/{call_uuid}"
    try:
        form = await checked_form(request)
        require_call_manager(user, call_uuid)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        outcome = action(user, fields)
    except ReviewqError as exc:
        if exc.http_status in (400, 409, 503) and exc.code != "CSRF_REFUSED":
            return redirect(back, exc.message, error=True)
        return _refusal(request, user, exc)
    if isinstance(outcome, Response):
        return outcome
    return redirect(back, outcome)


@router.post("/calls/{call_uuid}/generate")
async def generate(request: Request, call_uuid: str) -> Response:
    def run(user: User, _form: dict[str, str]) -> Response:
        queued = enqueue_generate(call_uuid, acting_user=str(user.uuid), requested_by=user.id)
        return redirect(f"/calls/{call_uuid}/requests/{queued.uuid}")

    return await _act(request, call_uuid, run)


@router.get("/calls/{call_uuid}/requests/{request_uuid}", response_class=HTMLResponse)
def generate_progress(request: Request, call_uuid: str, request_uuid: str) -> Response:
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    try:
        call = require_call_manager(user, call_uuid)
    except ReviewqError as exc:
        return _refusal(request, user, exc)
    parsed = as_uuid(request_uuid)
    queued = (
        None if parsed is None else AssignmentRequest.get_or_none(AssignmentRequest.uuid == parsed)
    )
    visible = queued is not None and (user.is_staff or queued.requested_by_id == user.id)
    if queued is None or not visible or queued.kind != RequestKind.GENERATE_ASSIGNMENTS:
        return error_page(request, 404, "Not found", "There is no such request.", user=user)
    finished = queued.status in FINISHED_REQUEST_STATUSES
    return page(
        request,
        "request.html.j2",
        user=user,
        title=f"Generating assignments: {call.name}",
        call=call,
        queued=queued,
        finished=finished,
        succeeded=queued.status == RequestStatus.SUCCEEDED,
        refresh=None if finished else REFRESH_SECONDS,
    )


@router.post("/calls/{call_uuid}/send-all")
async def send_drafts(request: Request, call_uuid: str) -> Response:
    def run(user: User, _form: dict[str, str]) -> str:
        result = send_all(user, call_uuid)
        deliver(result)
        skipped = f"; {len(result.skipped)} skipped (no pending item)" if result.skipped else ""
        return f"{result.sent} invitation(s) sent{skipped}."

    return await _act(request, call_uuid, run)


def _deadline(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise FieldRejected("expires_at", "Enter a valid date and time.") from exc


@router.post("/calls/{call_uuid}/batches/{batch_uuid}/extend")
async def extend(request: Request, call_uuid: str, batch_uuid: str) -> Response:
    def run(user: User, form: dict[str, str]) -> str:
        result = extend_deadline(user, batch_uuid, _deadline(form.get("expires_at", "")))
        deliver(result)
        reviewer = result.batch.reviewer_pool_entry.reviewer.name
        deadline = f"{result.batch.expires_at:%Y-%m-%d %H:%M}"
        return f"The invitation of {reviewer} now expires at {deadline} UTC."

    return await _act(request, call_uuid, run)


@router.post("/calls/{call_uuid}/items/{item_uuid}/reassign")
async def reassign(request: Request, call_uuid: str, item_uuid: str) -> Response:
    def run(user: User, form: dict[str, str]) -> str:
        entry = form.get("reviewer_pool_entry_uuid", "")
        if as_uuid(entry) is None:
            raise FieldRejected("reviewer_pool_entry_uuid", "Choose a reviewer.")
        notes = form.get("manager_notes", "")[:TEXT_MAX_CHARS]
        result = reassign_item(user, item_uuid, entry, manager_notes=notes)
        deliver(result)
        name = result.new_batch.reviewer_pool_entry.reviewer.name
        return f"Reassigned to {name}, as a draft: send it with “Send all drafts”."

    return await _act(request, call_uuid, run)


@router.post("/calls/{call_uuid}/items/{item_uuid}/force-unblock")
async def unblock(request: Request, call_uuid: str, item_uuid: str) -> Response:
    def run(user: User, form: dict[str, str]) -> str:
        reason = form.get("override_reason", "")[:TEXT_MAX_CHARS]
        deliver(force_unblock(user, item_uuid, reason))
        return "The item is pending again: the reviewer may now accept it."

    return await _act(request, call_uuid, run)


@router.post("/calls/{call_uuid}/conflicts/{coi_uuid}/decide")
async def decide(request: Request, call_uuid: str, coi_uuid: str) -> Response:
    def run(user: User, form: dict[str, str]) -> str:
        result = decide_conflict(user, coi_uuid, form.get("status", ""))
        deliver(result)
        changes = []
        if result.unblocked_item_uuids:
            changes.append(f"{len(result.unblocked_item_uuids)} item(s) unblocked")
        if result.blocked_item_uuids:
            changes.append(f"{len(result.blocked_item_uuids)} item(s) blocked")
        if result.rejected_review_uuids:
            changes.append(f"{len(result.rejected_review_uuids)} review(s) rejected")
        tail = f": {', '.join(changes)}" if changes else ""
        return f"Conflict {result.status.value}{tail}."

    return await _act(request, call_uuid, run)
