"""Every hyperlink of a batch and its items resolves (200) for whoever may see the batch, and
every link found in what they lead to resolves too; the records stay 404 to another call's
manager and to a stranger. Links are built from the request, not from PUBLIC_URL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.serializers.links import REVIEWER_PROFILES
from tests.api.records.conftest import LinkWorld, hyperlinks
from tests.builders import BASE, PUBLIC_URL


def crawl(client: TestClient, start: str, headers: dict[str, str]) -> dict[str, int]:
    """Follow every API link reachable from `start`: url -> status."""
    seen: dict[str, int] = {}
    todo = [start]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = client.get(url.removeprefix(BASE), headers=headers)
        seen[url] = response.status_code
        if response.status_code == 200:
            todo.extend(hyperlinks(response.json(), BASE) - set(seen))
    return seen


def batch_url(links: LinkWorld) -> str:
    return f"{BASE}/api/assignment-batches/{links.world.batch.uuid}/"


def test_every_link_of_a_batch_resolves_for_its_manager(
    client: TestClient, links_world: LinkWorld
) -> None:
    seen = crawl(client, batch_url(links_world), links_world.auth["manager"])
    assert {url: code for url, code in seen.items() if code != 200} == {}
    kinds = {url.removeprefix(f"{BASE}/api/").split("/")[0] for url in seen}
    assert kinds >= {
        "assignment-batches",
        "assignment-items",
        "proposal-protected-calls",
        "call-reviewer-pools",
        "proposal-proposals",
        "proposal-reviews",
        "users",
        REVIEWER_PROFILES,
    }


def test_every_link_of_a_batch_resolves_for_its_reviewer(
    client: TestClient, links_world: LinkWorld
) -> None:
    seen = crawl(client, batch_url(links_world), links_world.auth["reviewer"])
    assert {url: code for url, code in seen.items() if code != 200} == {}
    assert len(seen) >= 10


def test_the_links_stay_hidden_from_another_calls_manager_and_a_stranger(
    client: TestClient, links_world: LinkWorld
) -> None:
    urls = crawl(client, batch_url(links_world), links_world.auth["manager"])
    mine = {u for u in urls if f"/users/{links_world.world.other_manager.uuid}/" not in u}
    for who in ("other_manager", "stranger"):
        codes = {
            u: client.get(u.removeprefix(BASE), headers=links_world.auth[who]).status_code
            for u in mine
        }
        assert set(codes.values()) == {404}, (who, codes)


def test_links_come_from_the_request_not_from_public_url(
    client: TestClient, links_world: LinkWorld, monkeypatch: object
) -> None:
    path = f"/api/assignment-batches/{links_world.world.batch.uuid}/"
    headers = {**links_world.auth["manager"], "Host": "api.example.net:8443"}
    body = client.get(path, headers=headers).json()
    assert body["url"] == f"http://api.example.net:8443{path}"
    assert not hyperlinks(body, PUBLIC_URL)


def test_forwarded_headers_count_only_behind_a_trusted_proxy(
    client: TestClient, links_world: LinkWorld, monkeypatch: object
) -> None:
    import pytest

    from config import get_settings

    path = f"/api/assignment-batches/{links_world.world.batch.uuid}/"
    forwarded = {
        **links_world.auth["manager"],
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "reviews.example.com",
    }
    assert client.get(path, headers=forwarded).json()["url"] == f"{BASE}{path}"
    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("REVIEWQ_TRUST_PROXY", "1")
    get_settings.cache_clear()
    try:
        assert client.get(path, headers=forwarded).json()["url"] == (
            f"https://reviews.example.com{path}"
        )
    finally:
        monkeypatch.delenv("REVIEWQ_TRUST_PROXY")
        get_settings.cache_clear()
