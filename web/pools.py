"""A reviewer's answer to a call's pool invitation, from `/me` (where the invitation e-mail
links): Accept, or Decline with a reason. The same use cases as the API's
`/api/call-reviewer-pools/{uuid}/accept/` and `decline/` (tasks/pools/invitations.py), with
their permissions: only the invited reviewer may answer, once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tasks.errors import ReviewqError
from tasks.pools.invitations import accept_invitation, decline_invitation
from web.account import login_redirect, signed_in
from web.rendering import error_page, redirect
from web.security import CsrfRefused, checked_form

router = APIRouter()

REASON_MAX_CHARS = 2000
BACK = "/me#pool-invitations"


@router.post("/pool-invitations/{entry_uuid}/{answer}")
async def answer_invitation(request: Request, entry_uuid: str, answer: str) -> Response:
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    if answer not in ("accept", "decline"):
        return error_page(request, 404, "Not found", "There is no such answer.")
    try:
        form = await checked_form(request)
    except CsrfRefused as exc:
        return error_page(request, 403, "Form refused", exc.message)
    try:
        if answer == "accept":
            accept_invitation(user, entry_uuid)
            return redirect(BACK, "You joined the call's reviewer pool.")
        reason = str(form.get("reason") or "").strip()[:REASON_MAX_CHARS]
        decline_invitation(user, entry_uuid, reason)
        return redirect(BACK, "You declined the invitation.")
    except ReviewqError as exc:
        return redirect(BACK, exc.message, error=True)
