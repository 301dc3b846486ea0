"""A pool invitation answered from `/me`, where its e-mail links (no browser: TestClient)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from store import Notification, ReviewerPoolEntry
from store.enums import InvitationStatus
from tasks.pools.invitations import add_reviewers
from tasks.users import rotate_token
from tests.factories import make_call, make_call_manager, make_reviewer, make_user


@pytest.fixture
def client(db: Database, stub_broker: Any, public_url: str) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(), raise_server_exceptions=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, token: str) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login", data={"token": token, "next": "/me", "csrf_token": _csrf(form.text)}
    )
    assert answer.status_code == 200 and "My invitations" in answer.text


def test_the_invited_reviewer_accepts_or_declines_from_me(
    client: TestClient, public_url: str
) -> None:
    manager = make_call_manager(make_call(name="Optics 2027"))
    first, second = make_call(name="Lasers 2027"), make_call(name="Lenses 2027")
    make_call_manager(first, username="m1")
    user = make_user(username="ivy")
    reviewer = make_reviewer("ivy", user=user, name="Ivy")
    staff = make_user(is_staff=True)
    add_reviewers(staff, str(first.uuid), ["ivy"])
    add_reviewers(staff, str(second.uuid), ["ivy"])
    del manager
    mails = [n.text_body for n in Notification.select()]
    assert mails and all(f"{public_url}/me#pool-invitations" in body for body in mails)

    _sign_in(client, rotate_token(user))
    page = client.get("/me").text
    assert page.count(">Accept</button>") == 2 and "Lasers 2027" in page
    entries = {
        e.call_id: e
        for e in ReviewerPoolEntry.select().where(ReviewerPoolEntry.reviewer == reviewer.id)
    }
    accept = f"/pool-invitations/{entries[first.id].uuid}/accept"
    assert client.post(accept, data={}).status_code == 403  # no CSRF token: refused
    assert ReviewerPoolEntry.get_by_id(entries[first.id].id).invitation_status == "pending"
    done = client.post(accept, data={"csrf_token": _csrf(page)})
    assert done.status_code == 200 and "You joined" in done.text
    again = client.post(accept, data={"csrf_token": _csrf(done.text)})
    assert again.status_code == 200  # answered already: said on the page, nothing changes
    decline = f"/pool-invitations/{entries[second.id].uuid}/decline"
    declined = client.post(decline, data={"csrf_token": _csrf(again.text), "reason": "Sabbatical"})
    assert "You declined" in declined.text
    got = {
        e.call_id: e
        for e in ReviewerPoolEntry.select().where(ReviewerPoolEntry.reviewer == reviewer.id)
    }
    assert got[first.id].invitation_status == InvitationStatus.ACCEPTED
    assert got[second.id].invitation_status == InvitationStatus.DECLINED
    assert got[second.id].decline_reason == "Sabbatical"


def test_another_user_cannot_answer_someone_elses_invitation(client: TestClient) -> None:
    call = make_call()
    reviewer = make_reviewer("zed", user=make_user(username="zed"))
    add_reviewers(make_user(is_staff=True), str(call.uuid), ["zed"])
    entry = ReviewerPoolEntry.get(ReviewerPoolEntry.reviewer == reviewer.id)
    _sign_in(client, rotate_token(make_user(username="mallory")))
    page = client.get("/me").text
    answer = client.post(f"/pool-invitations/{entry.uuid}/accept", data={"csrf_token": _csrf(page)})
    assert answer.status_code == 200  # back to /me with the refusal
    assert ReviewerPoolEntry.get_by_id(entry.id).invitation_status == InvitationStatus.PENDING
