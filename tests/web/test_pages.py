"""The pages without a browser (FastAPI's TestClient): what each disclosure level shows, a
withdrawn or draft invitation, CSRF on the response page, and the login redirect."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from store import AssignmentBatch, AssignmentItem, Call
from store.enums import BatchStatus, Disclosure, ItemStatus
from tasks.links import response_token
from tests.builders import build_web_world


@pytest.fixture
def client(db: Database, stub_broker: Any) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(), raise_server_exceptions=False)


def _respond(client: TestClient, batch: AssignmentBatch) -> Any:
    return client.get(f"/respond/{response_token(batch)}")


@pytest.mark.parametrize(
    ("disclosure", "summary", "keywords"),
    [
        (Disclosure.TITLES_ONLY, False, False),
        (Disclosure.TITLES_AND_SUMMARIES, True, False),
        (Disclosure.FULL_DETAILS, True, True),
    ],
)
def test_the_page_shows_what_the_disclosure_allows_and_never_more_for_a_blocked_item(
    client: TestClient, disclosure: Disclosure, summary: bool, keywords: bool
) -> None:
    world = build_web_world()
    Call.update(proposal_disclosure=disclosure).where(Call.id == world.call.id).execute()

    page = _respond(client, world.batch).text

    assert ("Summary of Dark matter maps." in page) is summary
    assert ("Keywords: sky" in page) is keywords
    assert "Exoplanet census" in page
    assert "Summary of Exoplanet census." not in page
    assert page.count("Keywords: sky") == (2 if keywords else 0)


def test_a_withdrawn_invitation_says_so_and_a_draft_is_not_found(client: TestClient) -> None:
    world = build_web_world()
    AssignmentBatch.update(status=BatchStatus.CANCELLED).where(
        AssignmentBatch.id == world.batch.id
    ).execute()

    cancelled = _respond(client, world.batch)
    AssignmentBatch.update(status=BatchStatus.DRAFT).where(
        AssignmentBatch.id == world.batch.id
    ).execute()
    draft = _respond(client, world.batch)

    assert cancelled.status_code == 410
    assert "withdrawn" in cancelled.text and ">Accept</button>" not in cancelled.text
    assert draft.status_code == 404
    assert "Dark matter maps" not in draft.text


def test_an_answer_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    world = build_web_world()
    page = _respond(client, world.batch)
    action = re.search(r'action="(/respond/[^"]+/accept)"', page.text)
    assert action is not None

    refused = client.post(action.group(1), data={})
    forged = client.post(action.group(1), data={"csrf_token": "a.b"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    accepted = client.post(action.group(1), data={"csrf_token": token.group(1)})

    assert (refused.status_code, forged.status_code) == (403, 403)
    assert accepted.status_code == 200 and "You accepted" in accepted.text
    statuses = [i.status for i in AssignmentItem.select().order_by(AssignmentItem.id)]
    assert statuses == [ItemStatus.ACCEPTED, ItemStatus.PENDING, ItemStatus.COI_BLOCKED]


def test_the_manager_pages_send_a_stranger_to_login(client: TestClient) -> None:
    world = build_web_world()
    for path in ("/", "/me", f"/calls/{world.call.uuid}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"
    assert "Token" in client.get("/login").text
