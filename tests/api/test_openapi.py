"""/openapi.json documents the real error responses of each operation in its family's shape
(never FastAPI's default 422 ValidationError) and the Token and Bearer security schemes, so
/docs has an Authorize button; declaring them changes nothing in how a request authenticates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peewee import Database

from tests.factories import make_user, with_token

GENERATE = "/api/proposal-protected-calls/{uuid}/generate-assignments/"
SCHEMAS = "#/components/schemas/"


@pytest.fixture
def document(api_client: TestClient) -> dict[str, Any]:
    response = api_client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def error_refs(operation: dict[str, Any]) -> dict[str, str]:
    return {
        status: answer["content"]["application/json"]["schema"]["$ref"].removeprefix(SCHEMAS)
        for status, answer in operation["responses"].items()
        if status >= "400"
    }


def test_no_operation_documents_fastapis_default_422(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]


def test_each_family_documents_its_own_error_shapes(document: dict[str, Any]) -> None:
    generate = error_refs(document["paths"][GENERATE]["post"])
    assert generate == {
        "400": "DrfBadRequest",
        **dict.fromkeys(("401", "403", "404", "413", "415", "422", "429", "503"), "DrfDetail"),
    }
    assign = error_refs(document["paths"]["/v1/reviews/assign"]["post"])
    assert set(assign) == {"400", "401", "403", "404", "413", "415", "422", "429", "503"}
    assert set(assign.values()) == {"Envelope"}
    retrieve = error_refs(document["paths"]["/api/assignment-batches/{uuid}/"]["get"])
    assert set(retrieve) == {"401", "403", "404", "429"}
    schemas = document["components"]["schemas"]
    assert schemas["EnvelopeError"]["required"] == ["code", "message"]
    assert schemas["DrfFieldErrors"]["additionalProperties"]["items"] == {"type": "string"}


def test_token_and_bearer_schemes_are_declared_on_every_operation(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["Token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["Token"]["description"],
    }
    assert (schemes["Bearer"]["type"], schemes["Bearer"]["scheme"]) == ("http", "bearer")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"Token": []}, {"Bearer": []}], (method, path)


def test_docs_page_is_served(api_client: TestClient) -> None:
    page = api_client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text


def test_both_schemes_still_authenticate_and_others_do_not(
    api_client: TestClient, db: Database
) -> None:
    token = with_token(make_user(is_staff=True))["Authorization"].split()[1]
    for header in (f"Token {token}", f"Bearer {token}", f"token {token}"):
        answer = api_client.get("/api/assignment-batches/", headers={"Authorization": header})
        assert answer.status_code == 200, header
    for header in (token, f"Basic {token}", "Token", "Bearer"):
        answer = api_client.get("/api/assignment-batches/", headers={"Authorization": header})
        assert answer.status_code == 401, header
