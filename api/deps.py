"""Request-scoped dependencies: a database connection, the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header

from store import User
from store.db import database
from tasks.errors import ReviewqError
from tasks.users import authenticate


class NotAuthenticated(ReviewqError):
    code = "NOT_AUTHENTICATED"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("Authentication credentials were not provided or are invalid.")

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


def _token(authorization: str | None) -> str | None:
    """`Token <key>` (seeds/000) or `Bearer <key>` (seeds/004)."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not key.strip():
        return None
    return key.strip()


def current_user(
    _db: Annotated[None, Depends(db_connection)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """The user of the request's token; 401 without a valid one."""
    token = _token(authorization)
    user = authenticate(token) if token else None
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(current_user)]
