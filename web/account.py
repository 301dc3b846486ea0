"""Signing in and out with an API token, the home page (the calls a user manages) and `/me`
(a reviewer's pool invitations, batches of invitations (sent, responded and expired) and
reviews)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from store import User
from tasks.batches.listing import list_own_batches
from tasks.links import response_token
from tasks.overview import managed_calls
from tasks.pools.listing import PoolFilters, list_pool_entries
from tasks.reviews import own_reviews
from tasks.users import authenticate
from web.rendering import error_page, page, redirect
from web.security import CsrfRefused, checked_form, end_session, session_user, start_session

router = APIRouter()

MSG_BAD_TOKEN = "That token is not valid. Paste the token that `reviewq user create` printed."


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def signed_in(request: Request) -> User | None:
    return session_user(request)


def login_redirect(request: Request) -> Response:
    return redirect(f"/login?next={request.url.path}")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return page(request, "login.html.j2", title="Sign in", next=_safe_next(next), error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfRefused as exc:
        return error_page(request, 403, "Form refused", exc.message)
    token = str(form.get("token") or "").strip()
    target = _safe_next(str(form.get("next") or "/"))
    user = authenticate(token)
    if user is None:
        return page(
            request,
            "login.html.j2",
            status_code=401,
            title="Sign in",
            next=target,
            error=MSG_BAD_TOKEN,
        )
    response = redirect(target, f"Signed in as {user.full_name or user.username}.")
    start_session(request, response, user)
    return response


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request) -> Response:
    return page(request, "logout.html.j2", user=signed_in(request), title="Sign out")


@router.post("/logout")
async def logout(request: Request) -> Response:
    try:
        await checked_form(request)
    except CsrfRefused as exc:
        return error_page(request, 403, "Form refused", exc.message)
    response = redirect("/login", "You are signed out.")
    end_session(response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    calls = managed_calls(user)
    return page(request, "home.html.j2", user=user, title="Your calls", calls=calls)


@router.get("/me", response_class=HTMLResponse)
def my_batches(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return login_redirect(request)
    views, _total = list_own_batches(user, page_size=None)
    rows = [(view, response_token(view.batch)) for view in views]
    reviews = own_reviews(user)
    pools, _count = list_pool_entries(
        user,
        PoolFilters(my_invitations=True, invitation_status=("pending",)),  # what awaits an answer
        ordering=["created"],
        page_size=None,
    )
    return page(
        request,
        "me.html.j2",
        user=user,
        title="My invitations",
        rows=rows,
        reviews=reviews,
        pools=pools,
    )
