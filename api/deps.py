"""Request-scoped dependencies: a database connection, the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header

from store import User
from store.db import database
from tasks.errors import ReviewqError
from tasks.users import authenticate

#: Django REST framework's TokenAuthentication words, and the challenge it answers 401 with
MSG_NO_CREDENTIALS = "Authentication credentials were not provided."
MSG_NO_TOKEN_IN_HEADER = "Invalid token header. No credentials provided."
MSG_INVALID_TOKEN = "Invalid token."
CHALLENGE = {"WWW-Authenticate": "Token"}


class NotAuthenticated(ReviewqError):
    """401 `{"detail": <DRF's message>}` with `WWW-Authenticate: Token` (api/errors.py)."""

    code = "NOT_AUTHENTICATED"
    http_status = 401

    def __init__(self, message: str = MSG_NO_CREDENTIALS) -> None:
        super().__init__(message)

    def body(self) -> dict[str, object]:
        return {"detail": self.message}


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


def current_user(
    _db: Annotated[None, Depends(db_connection)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """The user of the request's token; 401 without a valid one."""
    user = authenticate(_token(authorization))
    if user is None:
        raise NotAuthenticated(MSG_INVALID_TOKEN)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
