"""Queued requests (`/v1/assignment-requests/`, `reviewq requests show --json`) and the
seeds/004 answer of a bulk assignment."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.types import WireInstant
from store import AssignmentRequest


class AssignmentOut(BaseModel):
    reviewId: str  # noqa: N815 (the seeds/004 names)
    assignedTo: str | None  # noqa: N815
    status: str = Field(description="success or failed")
    error: str | None = Field(default=None, description="Why it failed (failed only).")


class ReviewerSummaryOut(BaseModel):
    userId: str  # noqa: N815
    assignedCount: int  # noqa: N815
    totalWorkload: int  # noqa: N815


class AssignOut(BaseModel):
    """The seeds/004 answer (its example's form: `summary` is a list)."""

    assigned: int
    failed: int
    assignments: list[AssignmentOut]
    summary: list[ReviewerSummaryOut]


class RequestOut(BaseModel):
    """A queued request; `result` is its stored answer once finished."""

    id: str
    kind: str
    status: str = Field(description="queued, running, succeeded or failed")
    idempotency_key: str | None
    http_status: int | None
    attempts: int
    created: WireInstant
    started_at: WireInstant | None
    finished_at: WireInstant | None
    result: dict[str, Any] | None


def request_out(request: AssignmentRequest) -> RequestOut:
    """The request as the API answers it and `requests show --json` prints it."""
    return RequestOut(
        id=str(request.uuid),
        kind=request.kind.value,
        status=request.status.value,
        idempotency_key=request.idempotency_key,
        http_status=request.http_status,
        attempts=request.attempts,
        created=request.created,
        started_at=request.started_at,
        finished_at=request.finished_at,
        result=request.result,
    )
