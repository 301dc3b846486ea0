"""Every rejection as JSON with a stable code, never a 500 for anything a caller sends."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import CHALLENGE, NotAuthenticated
from tasks.errors import BrokerUnavailable, ReviewqError, ValidationFailed

logger = logging.getLogger(__name__)


def _field(loc: tuple[object, ...]) -> str:
    # drop the "body"/"query"/"path" prefix FastAPI puts first
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or "body"


def broker_unavailable(request: Request, exc: BrokerUnavailable) -> JSONResponse:
    """503 with Retry-After, in the error shape of the path's API family: DRF's `{"detail"}`
    under /api/ (seeds/000), the seeds/004 envelope elsewhere."""
    seeds_000 = request.url.path.startswith("/api/")
    body = {"detail": exc.message} if seeds_000 else exc.body()
    headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to their JSON envelopes."""

    @app.exception_handler(ReviewqError)
    async def domain_error(request: Request, exc: ReviewqError) -> JSONResponse:
        # a 401 names the scheme to authenticate with, as DRF's TokenAuthentication does
        headers = CHALLENGE if isinstance(exc, NotAuthenticated) else None
        if isinstance(exc, BrokerUnavailable):
            return broker_unavailable(request, exc)
        return JSONResponse(exc.body(), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        failure = ValidationFailed(errors)
        return JSONResponse(failure.body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Error."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        body = {"error": {"code": "INTERNAL_ERROR", "message": "An unexpected error occurred."}}
        return JSONResponse(body, status_code=500)
