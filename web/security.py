"""The signed values of the pages: the session cookie, the CSRF token and the one-shot notice.

All are signed with config/secret.py's key (itsdangerous), each with its own salt, so that no
signed value passes for another (nor for a response link, tasks/links.py). The session holds the
user's uuid and a fingerprint of their token's hash: rotating the token ends every session.
CSRF is a double-submit: an HttpOnly SameSite cookie holds a random value, every form carries
that value signed, and a POST is refused unless the two match.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, Signer, URLSafeSerializer, URLSafeTimedSerializer
from starlette.datastructures import FormData

from config.secret import secret_key
from store import User
from tasks.errors import ReviewqError

SESSION_COOKIE = "reviewq_session"
CSRF_COOKIE = "reviewq_csrf"
NOTICE_COOKIE = "reviewq_notice"
CSRF_FIELD = "csrf_token"
SESSION_DAYS = 14
SESSION_SECONDS = SESSION_DAYS * 24 * 3600
FINGERPRINT_CHARS = 16


class CsrfRefused(ReviewqError):
    """A form post without a valid CSRF token: 403, nothing changes."""

    code = "CSRF_REFUSED"
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. "
            "Go back, reload the page and try again."
        )


def _session_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="reviewq.session")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --- the session ------------------------------------------------------------------------------


def start_session(request: Request, response: Response, user: User) -> None:
    """Sign `user` in on this browser: a signed, HttpOnly, SameSite=Lax cookie."""
    value = _session_serializer().dumps(
        {"u": str(user.uuid), "t": str(user.token_hash or "")[:FINGERPRINT_CHARS]}
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_user(request: Request) -> User | None:
    """The signed-in user, or None (no cookie, a bad or old signature, a rotated token)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _session_serializer().loads(raw, max_age=SESSION_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = User.get_or_none(User.uuid == str(data.get("u")))
    if user is None or not user.token_hash:
        return None
    fingerprint = str(user.token_hash)[:FINGERPRINT_CHARS]
    if not hmac.compare_digest(fingerprint, str(data.get("t", ""))):
        return None
    return user


# --- CSRF --------------------------------------------------------------------------------------


def _csrf_signer() -> Signer:
    return Signer(secret_key(), salt="reviewq.csrf")


def csrf_cookie_value(request: Request) -> str:
    """This browser's CSRF cookie value, or a new one (set by `set_csrf_cookie`)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    fresh = getattr(request.state, "csrf_value", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.csrf_value = fresh
    return str(fresh)


def csrf_token(request: Request) -> str:
    """The hidden field every form of the page carries."""
    return _csrf_signer().sign(csrf_cookie_value(request)).decode()


def set_csrf_cookie(request: Request, response: Response) -> None:
    if request.cookies.get(CSRF_COOKIE) == csrf_cookie_value(request):
        return
    response.set_cookie(
        CSRF_COOKIE,
        csrf_cookie_value(request),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this browser's cookie; else CsrfRefused."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie:
        raise CsrfRefused()
    try:
        value = _csrf_signer().unsign(sent).decode()
    except BadSignature as exc:
        raise CsrfRefused() from exc
    if not hmac.compare_digest(value, cookie):
        raise CsrfRefused()
    return form


# --- the one-shot notice after a redirect -------------------------------------------------------


def _notice_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(), salt="reviewq.notice")


def set_notice(response: Response, text: str, *, error: bool = False) -> None:
    """A message for the next page this browser opens (after a POST's redirect)."""
    value = _notice_serializer().dumps([bool(error), text[:500]])
    response.set_cookie(NOTICE_COOKIE, value, httponly=True, samesite="lax", path="/")


def take_notice(request: Request, response: Response) -> tuple[str, bool] | None:
    """(text, is_error) of the pending notice, cleared from the browser; None without one."""
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    response.delete_cookie(NOTICE_COOKIE, path="/")
    try:
        error, text = _notice_serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(text), bool(error)
