"""Request-scoped dependencies: a database connection, the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from store import User
from store.db import database
from tasks.errors import DrfShaped
from tasks.throttle import check_address, record_failure
from tasks.users import authenticate

#: Django REST framework's TokenAuthentication words, and the challenge it answers 401 with
MSG_NO_CREDENTIALS = "Authentication credentials were not provided."
MSG_NO_TOKEN_IN_HEADER = "Invalid token header. No credentials provided."
MSG_INVALID_TOKEN = "Invalid token."

#: The two schemes, declared for the OpenAPI document (and /docs' Authorize button) only:
#: neither refuses anything itself (`auto_error=False`); `current_user` reads the header.
TOKEN_SCHEME = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <key>` (seeds/000, as Waldur): type the word Token, a space, the key.",
    auto_error=False,
)
BEARER_SCHEME = HTTPBearer(
    scheme_name="Bearer", description="`Bearer <key>` (seeds/004): the key alone.", auto_error=False
)


class NotAuthenticated(DrfShaped):
    """401, DRF's message; `WWW-Authenticate` names the family's scheme (api/errors.py)."""

    code = "NOT_AUTHENTICATED"
    http_status = 401

    def __init__(self, message: str = MSG_NO_CREDENTIALS) -> None:
        super().__init__(message)


def db_connection() -> Iterator[None]:
    """A connection for this request (from the pool on PostgreSQL), always given back."""
    database.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if not database.is_closed():
            if database.in_transaction():
                database.rollback()
            database.close()


def _token(authorization: str | None) -> str:
    """The key of `Token <key>` (seeds/000) or `Bearer <key>` (seeds/004); NotAuthenticated
    as DRF words it: no credentials for no header or another scheme, an invalid header for a
    scheme without a key."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        raise NotAuthenticated(MSG_NO_CREDENTIALS)
    if not key.strip():
        raise NotAuthenticated(MSG_NO_TOKEN_IN_HEADER)
    return key.strip()


def client_address(request: Request) -> str:
    """The address failed authentications are counted by (uvicorn applies X-Forwarded-For
    from the proxies it trusts, `--forwarded-allow-ips`)."""
    return request.client.host if request.client is not None else "unknown"


def current_user(
    request: Request,
    _db: Annotated[None, Depends(db_connection)],
    _token_scheme: Annotated[str | None, Security(TOKEN_SCHEME)] = None,
    _bearer_scheme: Annotated[object | None, Security(BEARER_SCHEME)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> User:
    """The user of the request's token; 401 without a valid one, 429 for an address past its
    failed authentications (tasks/throttle.py)."""
    key = _token(authorization)
    address = client_address(request)
    check_address(address)
    user = authenticate(key)
    if user is None:
        record_failure(address)
        raise NotAuthenticated(MSG_INVALID_TOKEN)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
