"""The error responses of every operation in /openapi.json, in its family's shape, instead of
FastAPI's default 422 (which this API never answers: api/errors.py turns it into a 400).

Which statuses an operation lists follows from what it is: every authenticated operation can
answer 401 and 429; one with a body or query parameters 400; a write 403 and 413; one
with a body 415; one with a
path parameter, a page number or a seeds/004 id list 404; a queued request (it takes an
Idempotency-Key) 422 and 503. A route may add its own with `responses=`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.errors import Family, family_of
from api.serializers.errors import DrfBadRequest, DrfDetail, Envelope

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
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


def _statuses(route: APIRoute) -> set[int]:
    dependant = route.dependant
    queries = {param.name for param in _flat(dependant, "query_params")}
    headers = {param.alias.lower() for param in _flat(dependant, "header_params")}
    statuses = {401, 429}
    writes = bool((route.methods or set()) & WRITES)
    if writes or queries or route.body_field is not None:
        statuses.add(400)
    if writes:
        statuses |= {403, 413}
    if route.body_field is not None:
        statuses.add(415)
    if dependant.path_params or "page" in queries or (writes and route.path.startswith("/v1/")):
        statuses.add(404)
    if "idempotency-key" in headers:
        statuses |= {422, 503}
    return statuses


def _flat(dependant: Any, attribute: str) -> list[Any]:
    """The parameters of `dependant` and of every dependency it has."""
    out = list(getattr(dependant, attribute))
    for sub in dependant.dependencies:
        out += _flat(sub, attribute)
    return out


def _response(family: Family, status: int) -> dict[str, Any]:
    if family is Family.V1:
        model: Any = Envelope
    else:
        model = DrfBadRequest if status == 400 else DrfDetail
    return {"model": model, "description": DESCRIPTIONS[status]}


def document_errors(app: FastAPI) -> None:
    """Add every route's error responses, and serve the document without FastAPI's 422."""
    for route in app.routes:
        family = family_of(getattr(route, "path", ""))
        if not isinstance(route, APIRoute) or family is Family.OTHER:
            continue
        documented: dict[int | str, dict[str, Any]] = {
            status: _response(family, status) for status in sorted(_statuses(route))
        }
        route.responses = {**documented, **route.responses}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _without_default_422(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _without_default_422(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop FastAPI's HTTPValidationError 422 from every operation, and its schemas."""
    default = "#/components/schemas/HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref == default:
                del responses["422"]
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema
