"""The error bodies of each API family, as documented in /openapi.json (api/openapi.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, RootModel


class DrfDetail(BaseModel):
    """Django REST framework's APIException: 401, 403, 404, 405, 413, 429, 503, a body that is
    not JSON; `code` on a 422 Idempotency-Key mismatch."""

    detail: str
    code: str | None = None


class DrfRuleError(BaseModel):
    """A state-machine refusal of domain.md: `{"error": "Only draft batches can be sent."}`."""

    error: str


class DrfFieldErrors(RootModel[dict[str, list[str]]]):
    """A serializer's errors keyed by the offending field (query parameters and headers
    included): `{"expires_at": ["New deadline must be in the future."]}`."""


class DrfBadRequest(RootModel[DrfFieldErrors | DrfRuleError | DrfDetail]):
    """A 400 under /api/: field errors, a rule's refusal, or a parse error."""


class EnvelopeError(BaseModel):
    """seeds/004's error: a stable code, a message, and what else names the fault (`invalidIds`,
    `fields`, `errors`, ...)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class Envelope(BaseModel):
    """seeds/004's error envelope: `{"error": {"code", "message", ...}}`."""

    error: EnvelopeError
