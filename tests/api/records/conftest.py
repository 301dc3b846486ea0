"""The records behind the hyperlinks: Rita's batch of "Quantum Computing 2026", sent, with one
item accepted (so it links a review), seen by Mona (its manager), Rita, another call's manager
and a stranger; PUBLIC_URL points elsewhere, so every link must come from the request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database
from waldur_api_client import errors
from waldur_api_client.client import AuthenticatedClient

from store import ConflictOfInterest, ItemConflict, Proposal, Reviewer, ReviewerPoolEntry, User
from store.enums import InvitationStatus
from tasks.items.answers import accept_item
from tasks.users import rotate_token
from tests.builders import NOW, BatchWorld, build_batch_world, sent_batch
from tests.factories import make_conflict, make_pool_entry, make_reviewer, make_user, with_token


@dataclass
class LinkWorld:
    world: BatchWorld
    auth: dict[str, dict[str, str]]


@pytest.fixture
def links_world(db: Database, client: TestClient, public_url: str) -> Iterator[LinkWorld]:
    world = build_batch_world()
    sent_batch(world)
    auth = {
        name: with_token(user)
        for name, user in {
            "manager": world.manager,
            "reviewer": world.reviewer_user,
            "staff": world.staff,
            "other_manager": world.other_manager,
            "stranger": world.stranger,
        }.items()
    }
    # accepted on the batch's clock (sent ten days before NOW), so that an item links a review
    accept_item(world.reviewer_user, str(world.items[0].uuid), now=NOW - timedelta(days=1))
    yield LinkWorld(world, auth)


def hyperlinks(body: Any, base: str) -> set[str]:
    """Every string in `body` (nested) that is a url of this API under `base`."""
    if isinstance(body, dict):
        return set().union(*(hyperlinks(v, base) for v in body.values())) if body else set()
    if isinstance(body, list):
        return set().union(*(hyperlinks(v, base) for v in body)) if body else set()
    if isinstance(body, str) and body.startswith(f"{base}/api/"):
        return {body}
    return set()


@dataclass
class ClientWorld:
    """The same batch world served by uvicorn, seen through the published client by Mona (the
    manager), Rita (the reviewer, by Bearer), another call's manager; a second reviewer Rob
    with a login and a pending pool invitation; a conflict of Rita's with the third proposal."""

    world: BatchWorld
    manager: AuthenticatedClient
    reviewer: AuthenticatedClient
    other_manager: AuthenticatedClient
    invitee: AuthenticatedClient
    invitee_profile: Reviewer
    invitee_entry: ReviewerPoolEntry
    conflict: ConflictOfInterest


@pytest.fixture
def client_world(live_url: str) -> ClientWorld:
    world = build_batch_world()
    sent_batch(world)
    accept_item(world.reviewer_user, str(world.items[0].uuid), now=NOW - timedelta(days=1))
    invitee_user = make_user(username="rob")
    invitee = make_reviewer(user=invitee_user, name="Rob Reviewer", email="rob@example.org")
    entry = make_pool_entry(world.call, invitee, invitation_status=InvitationStatus.PENDING)
    blocked = world.items[2]
    conflict = make_conflict(world.call, world.reviewer, Proposal.get_by_id(blocked.proposal_id))
    ItemConflict.create(item=blocked.id, conflict=conflict.id)

    def as_user(user: User, prefix: str = "Token") -> AuthenticatedClient:
        return AuthenticatedClient(base_url=live_url, token=rotate_token(user), prefix=prefix)

    return ClientWorld(
        world,
        as_user(world.manager),
        as_user(world.reviewer_user, "Bearer"),
        as_user(world.other_manager),
        as_user(invitee_user),
        invitee,
        entry,
        conflict,
    )


def ok(response: Any, status: int, model: type | None) -> Any:
    """The answer had this status and, where the client defines a model, parsed into it."""
    assert response.status_code == status, response.content
    if model is not None:
        assert isinstance(response.parsed, model), response.content
    return response.parsed


def answer_of(call: Callable[[], Any]) -> tuple[int, Any]:
    """The status and JSON body of a client call, also when the client raises on a status it
    does not document (a 404 of a retrieve, a 400 of an action)."""
    try:
        response = call()
        return int(response.status_code), json.loads(response.content or b"null")
    except errors.UnexpectedStatus as exc:
        return int(exc.status_code), json.loads(exc.content or b"null")


def status_of(call: Callable[[], Any]) -> int:
    """The status of a client call (see `answer_of`)."""
    return answer_of(call)[0]
