"""One error contract per API family (#11): Django REST framework's shapes under /api/, the
seeds/004 envelope under /v1/, for every refusal, FastAPI's and Starlette's own included
(unknown path, 405, a body that is not JSON, a bad query parameter or header, 401)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from tests.factories import make_user, with_token

BATCHES = "/api/assignment-batches/"
ASSIGN = "/v1/reviews/assign"
NOT_JSON = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
PLAIN = {"content": b"{}", "headers": {"Content-Type": "text/plain"}}
PARSE_ERROR = "JSON parse error - Expecting property name enclosed in double quotes"


@pytest.fixture
def auth(db: Database) -> dict[str, str]:
    return with_token(make_user(is_staff=True))


def call(client: TestClient, auth: dict[str, str], method: str, path: str, **kw: Any) -> Any:
    headers = {**auth, **kw.pop("headers", {})}
    return client.request(method, path, headers=headers, **kw)


DRF_CASES: list[tuple[str, str, dict[str, Any], int, dict[str, Any]]] = [
    ("get", "/api/no-such-thing/", {}, 404, {"detail": "Not found."}),
    ("put", BATCHES, {}, 405, {"detail": 'Method "PUT" not allowed.'}),
    ("post", BATCHES, NOT_JSON, 400, {"detail": PARSE_ERROR}),
    (
        "post",
        BATCHES,
        PLAIN,
        415,
        {"detail": 'Unsupported media type "text/plain" in request.'},
    ),
    (
        "post",
        BATCHES,
        {"json": [1]},
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary."]},
    ),
    ("get", BATCHES + "?page=abc", {}, 400, {"page": ["A valid integer is required."]}),
    ("get", BATCHES + "?page=1&page=999", {}, 404, {"detail": "Invalid page."}),
    (
        "post",
        BATCHES,
        {"json": {"manager_notes": 5}},
        400,
        {"manager_notes": ["Not a valid string."]},
    ),
    (
        "post",
        BATCHES + "00000000-0000-0000-0000-000000000000/extend-deadline/",
        {"json": {}},
        400,
        {"expires_at": ["This field is required."]},
    ),
]


def assert_refused(
    client: TestClient,
    auth: dict[str, str],
    request: tuple[str, str, dict[str, Any]],
    answer: tuple[int, dict[str, Any]],
) -> None:
    method, path, kw = request
    response = call(client, auth, method, path, **dict(kw))
    assert (response.status_code, response.json()) == answer


def envelope(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


ENVELOPE_CASES: list[tuple[str, str, dict[str, Any], int, dict[str, Any]]] = [
    ("get", "/v1/no-such-thing", {}, 404, envelope("NOT_FOUND", "Not found.")),
    ("get", ASSIGN, {}, 405, envelope("METHOD_NOT_ALLOWED", 'Method "GET" not allowed.')),
    ("post", ASSIGN, NOT_JSON, 400, envelope("INVALID_JSON", PARSE_ERROR)),
    (
        "post",
        ASSIGN,
        PLAIN,
        415,
        envelope("UNSUPPORTED_MEDIA_TYPE", 'Unsupported media type "text/plain" in request.'),
    ),
    (
        "get",
        "/v1/assignment-requests/nope",
        {},
        404,
        envelope("NOT_FOUND", "No assignment request found."),
    ),
    (
        "post",
        ASSIGN,
        {"json": {"reviewIds": ["r"], "assignmentStrategy": {"type": "nope"}}},
        400,
        envelope("INVALID_STRATEGY", "Unknown assignment strategy type"),
    ),
]


@pytest.mark.parametrize(("method", "path", "kw", "status", "body"), DRF_CASES + ENVELOPE_CASES)
def test_each_family_answers_in_its_own_shape(
    api_client: TestClient,
    auth: dict[str, str],
    method: str,
    path: str,
    kw: dict[str, Any],
    status: int,
    body: dict[str, Any],
) -> None:
    assert_refused(api_client, auth, (method, path, kw), (status, body))


def test_a_v1_field_error_names_its_fields_in_the_envelope(
    api_client: TestClient, auth: dict[str, str]
) -> None:
    headers = {"Idempotency-Key": "a\x00b"}
    body = {"reviewIds": ["r"], "assignmentStrategy": {"type": "specific", "assignTo": ["u"]}}
    response = call(api_client, auth, "post", ASSIGN, json=body, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("VALIDATION_ERROR", ["Idempotency-Key"])


def test_an_api_header_error_is_keyed_by_the_header(
    api_client: TestClient, auth: dict[str, str]
) -> None:
    path = "/api/proposal-protected-calls/x/generate-assignments/"
    response = call(api_client, auth, "post", path, headers={"Idempotency-Key": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": ["Null characters are not allowed."]}


@pytest.mark.parametrize(
    ("path", "challenge", "body"),
    [
        (BATCHES, "Token", {"detail": "Invalid token."}),
        (ASSIGN, "Bearer", envelope("NOT_AUTHENTICATED", "Invalid token.")),
    ],
)
def test_401_names_the_scheme_in_the_family_shape(
    api_client: TestClient, db: Database, path: str, challenge: str, body: dict[str, Any]
) -> None:
    response = api_client.post(path, json={}, headers={"Authorization": "Token wrong"})
    assert (response.status_code, response.json()) == (401, body)
    assert response.headers["WWW-Authenticate"] == challenge


def test_a_drf_shaped_error_keeps_the_body_a_subclass_gives_it() -> None:
    """A resource's own refusal (e.g. Waldur's InvitationAcceptError `{"error", "message"}`)
    is answered as its `body()` under /api/, and as the envelope under /v1/."""
    from api.errors import Family, render
    from tasks.errors import RuleViolation

    class Refused(RuleViolation):
        def body(self) -> dict[str, Any]:
            return {"error": "already_answered", "message": self.message}

    refused = Refused("Invitation already answered.")
    assert render(Family.API, refused) == refused.body()
    assert render(Family.V1, refused) == envelope("RULE_VIOLATION", "Invitation already answered.")
