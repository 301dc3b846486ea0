"""Every router of the API, in one list (each resource's module adds itself here)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []

from api.items import router as items_router  # noqa: E402

ROUTERS.append(items_router)

from api.batches import router as batches_router  # noqa: E402
from api.calls import router as calls_router  # noqa: E402
from api.conflicts import router as conflicts_router  # noqa: E402
from api.pools import router as pools_router  # noqa: E402
from api.records import router as records_router  # noqa: E402
from api.reviews import router as reviews_router  # noqa: E402

ROUTERS += [
    batches_router,
    calls_router,
    reviews_router,
    pools_router,
    conflicts_router,
    records_router,
]
