"""Every page of web/, as one router the `web` process mounts (api/app.py). Pages are left out
of the OpenAPI document: it describes the API."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import db_connection


def web_router() -> APIRouter:
    from config.secret import secret_key
    from web import account, calls, pools, respond

    secret_key()  # generated into the data directory now, on first start, when unset
    router = APIRouter(include_in_schema=False, dependencies=[Depends(db_connection)])
    for module in (account, respond, calls, pools):
        router.include_router(module.router)
    return router
