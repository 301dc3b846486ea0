"""The FastAPI application: routers per resource, one error envelope, OpenAPI at /openapi.json."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.metrics import build_registry
from api.observe import ObservedRequests


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
    app.state.metrics_registry = build_registry()
    app.add_middleware(ObservedRequests, registry=app.state.metrics_registry)
    app.include_router(web_router())  # the pages for people (web/)
    return app
