"""Users and API tokens: random, shown once, stored only as a hash, checked by hash."""

from __future__ import annotations

import hashlib

import pytest
from peewee import Database

from store import CallManager, User
from tasks.errors import DuplicateUsername, UnknownCalls, UserError
from tasks.users import authenticate, create_user, hash_token, rotate_token
from tests.factories import make_call


def test_a_new_user_gets_a_random_token_of_at_least_32_bytes_stored_only_as_its_hash(
    db: Database,
) -> None:
    user, token = create_user("ada", email="ada@example.org", full_name="Ada L.")
    assert len(token) >= 43  # 32 bytes, URL-safe base64
    stored = User.get_by_id(user.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    assert token not in str(stored.__data__)
    assert (stored.email, stored.full_name, stored.is_staff) == ("ada@example.org", "Ada L.", False)


def test_two_users_never_get_the_same_token(db: Database) -> None:
    _, first = create_user("a")
    _, second = create_user("b")
    assert first != second


def test_a_token_authenticates_its_user_and_nothing_else_does(db: Database) -> None:
    user, token = create_user("ada", is_staff=True)
    create_user("bob")
    found = authenticate(token)
    assert found is not None and found.id == user.id and found.is_staff
    assert authenticate(token + "x") is None
    assert authenticate("") is None
    assert authenticate(user.token_hash) is None  # the hash itself is not a token


def test_a_duplicate_username_is_refused_and_nothing_is_written(db: Database) -> None:
    create_user("ada")
    with pytest.raises(DuplicateUsername, match="ada"):
        create_user("ada", manager_of=[])
    assert User.select().count() == 1


def test_an_unknown_call_is_refused_and_no_user_is_created(db: Database) -> None:
    make_call(external_id="call_1")
    with pytest.raises(UnknownCalls) as raised:
        create_user("ada", manager_of=["call_1", "call_404"])
    assert raised.value.details["invalidIds"] == ["call_404"]
    assert User.select().count() == 0


def test_a_manager_manages_the_calls_named_by_external_id_or_uuid(db: Database) -> None:
    first, second = make_call(external_id="call_1"), make_call()
    user, _ = create_user("mary", manager_of=["call_1", str(second.uuid), "call_1"])
    managed = sorted(link.call_id for link in CallManager.select().where(CallManager.user == user))
    assert managed == sorted([first.id, second.id])


@pytest.mark.parametrize(("username", "email"), [("", ""), ("ada", "not-an-address")])
def test_a_malformed_username_or_email_is_refused(db: Database, username: str, email: str) -> None:
    with pytest.raises(UserError):
        create_user(username, email=email)
    assert User.select().count() == 0


def test_rotating_a_token_retires_the_old_one(db: Database) -> None:
    user, old = create_user("ada")
    new = rotate_token(user)
    assert authenticate(old) is None
    found = authenticate(new)
    assert found is not None and found.id == user.id
