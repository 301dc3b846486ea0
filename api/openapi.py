"""The error responses of every operation in /openapi.json, in its family's shape, instead of
FastAPI's default 422 (which this API never answers: api/errors.py turns it into a 400).

Which statuses an operation lists follows from what it is: every operation under /api/ and
/v1/ is authenticated, so can answer 401 and 429; one with a body or query parameters 400; a
write 403, 404 (a record it names) and 413; one with a body 415; one with a path parameter or a
page number 404; one on a record under /api/ 403; a queued request (it takes an
Idempotency-Key) 422 and 503. An operation keeps any response its route declares itself; a
HEAD's responses have no content.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.errors import Family, family_of
from api.serializers.errors import DrfBadRequest, DrfDetail, Envelope

WRITES = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    400: "Invalid input: the offending fields named.",
    401: "No valid token.",
    403: "The caller may see the record but not do this to it.",
    404: "Not found, or not visible to the caller.",
    413: "Request body above REVIEWQ_MAX_BODY_BYTES.",
    415: "A body sent as something other than JSON.",
    422: "Idempotency-Key already used for another body, user or kind of request.",
    429: "Too many failed authentications from this address (see Retry-After).",
    503: "The task queue is unavailable (see Retry-After).",
}
MODELS: tuple[type[BaseModel], ...] = (DrfBadRequest, DrfDetail, Envelope)
REF = "#/components/schemas/{model}"
DEFAULT_422 = "#/components/schemas/HTTPValidationError"


def statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses operation `method path` can answer."""
    params = operation.get("parameters", [])
    where = {(p.get("in"), str(p.get("name", "")).lower()) for p in params}
    queries = {name for kind, name in where if kind == "query"}
    has_body = "requestBody" in operation
    writes = method in WRITES
    found = {401, 429}
    if writes or queries or has_body:
        found.add(400)
    if writes:
        found |= {403, 413}
    if has_body:
        found.add(415)
    paths = any(kind == "path" for kind, _ in where)
    if paths or "page" in queries or writes:
        found.add(404)
    if paths and path.startswith("/api/"):
        found.add(403)  # a record the caller sees but may not act on (suggest_alternatives)
    if ("header", "idempotency-key") in where:
        found |= {422, 503}
    return found


def _model(family: Family, status: int) -> str:
    if family is Family.V1:
        return Envelope.__name__
    return (DrfBadRequest if status == 400 else DrfDetail).__name__


def _component_schemas() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def with_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every operation's error responses, without FastAPI's default 422."""
    for path, operations in schema.get("paths", {}).items():
        family = family_of(path)
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            content = responses.get("422", {}).get("content", {})
            if content.get("application/json", {}).get("schema", {}).get("$ref") == DEFAULT_422:
                del responses["422"]
            if family is Family.OTHER:
                continue
            for status in sorted(statuses(path, method, operation)):
                ref = REF.format(model=_model(family, status))
                responses.setdefault(
                    str(status),
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": ref}}},
                    },
                )
            if method == "head":  # headers only: no answer of a HEAD has a body
                for response in responses.values():
                    response.pop("content", None)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(_component_schemas())
    return schema


def document_errors(app: FastAPI) -> None:
    """Serve /openapi.json with every operation's error responses (`with_errors`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = with_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
