"""The FastAPI application: routers per resource, one error contract per API family
(api/errors.py), the body cap (api/body_limit.py), OpenAPI at /openapi.json (api/openapi.py)."""

from __future__ import annotations

from fastapi import FastAPI

from api.body_limit import BodyLimit
from api.errors import install_error_handlers
from api.metrics import build_registry
from api.observe import ObservedRequests
from api.openapi import document_errors
from config import get_settings


def create_app() -> FastAPI:
    """The ASGI app of the `web` process (uvicorn `api.app:create_app --factory`)."""
    from api.operations import router as operations_router
    from api.routers import ROUTERS
    from web.routes import web_router

    app = FastAPI(
        title="reviewq",
        version="0.1.0",
        description="Assignment batches (seeds/000) and bulk review assignment (seeds/004).",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(operations_router)
    app.include_router(web_router())  # the pages for people (web/)
    document_errors(app)
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_body_bytes)
    # outermost (added last): every answer, a 413 of BodyLimit included, is counted and logged
    app.state.metrics_registry = build_registry()
    app.add_middleware(ObservedRequests, registry=app.state.metrics_registry)
    return app
