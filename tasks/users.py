"""Users and their API tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from peewee import IntegrityError

from store import Call, CallManager, User, write_transaction
from store.compiled import CompiledQuery, slot
from store.lookups import resolve_id, resolve_ids
from tasks.access import visible_users_condition
from tasks.errors import DuplicateUsername, NotFound, UnknownCalls, UserError
from tasks.mail.outbox import check_email

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """The hex SHA-256 of `token`: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random API token of TOKEN_BYTES bytes, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def create_user(
    username: str,
    *,
    email: str = "",
    full_name: str = "",
    is_staff: bool = False,
    manager_of: list[str] | None = None,
) -> tuple[User, str]:
    """Create a user with a new random token; return it with the token, shown only this once.

    `manager_of` names calls (external id or uuid) the user manages. Nothing is written if the
    username is taken (DuplicateUsername), a call is unknown (UnknownCalls) or the username or
    e-mail address is malformed (UserError).
    """
    _check_new_user(username, email)
    calls, missing = resolve_ids(Call, manager_of or [])
    if missing:
        raise UnknownCalls(missing)
    token = new_token()
    try:
        with write_transaction():
            if User.select().where(User.username == username).exists():
                raise DuplicateUsername(username)
            user = User.create(
                username=username,
                email=email,
                full_name=full_name,
                is_staff=is_staff,
                token_hash=hash_token(token),
            )
            for call in {c.id: c for c in calls.values()}.values():
                CallManager.create(call=call, user=user)
    except IntegrityError as exc:  # a concurrent create of the same username
        raise DuplicateUsername(username) from exc
    return user, token


def _check_new_user(username: str, email: str) -> None:
    if not username.strip() or len(username) > 150:
        raise UserError("a username has 1 to 150 characters")
    if email:
        try:
            check_email(email)
        except ValueError as exc:
            raise UserError(f"{email!r} is not an e-mail address") from exc


def authenticate(token: str) -> User | None:
    """The user whose token this is, or None. Only hashes are compared, in constant time."""
    if not token:
        return None
    digest = hash_token(token)
    user = _BY_TOKEN_HASH.first(User, digest=digest)
    if user is None or not hmac.compare_digest(user.token_hash, digest):
        return None
    return user


#: The read of every authenticated request, built once (store/compiled.py).
_BY_TOKEN_HASH = CompiledQuery(
    lambda: User.select().where(User.token_hash == slot("digest", User.token_hash)).limit(1)
)


def rotate_token(user: User) -> str:
    """Give `user` a new token (the old one stops working); return it, shown only this once."""
    token = new_token()
    User.update(token_hash=hash_token(token)).where(User.id == user.id).execute()
    return token


def get_visible_user(actor: User, user_token: str) -> tuple[User, bool]:
    """The user (uuid or external id) `actor` may see (tasks/access.py), and whether `actor`
    may also see their private details (e-mail, staff flag): themself or staff. NotFound
    otherwise."""
    user = resolve_id(User, str(user_token))
    if user is None:
        raise NotFound("user")
    condition = visible_users_condition(actor)
    if condition is not None and not User.select().where(User.id == user.id, condition).exists():
        raise NotFound("user")
    return user, bool(actor.is_staff or actor.id == user.id)
