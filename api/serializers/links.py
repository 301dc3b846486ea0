"""Hyperlinks between API records: `<base>/api/<collection>/<uuid>/`.

An answer's links are built from its request, as Django REST framework's
`request.build_absolute_uri` does: the scheme, host and port the client used (the `Host`
header). Behind a reverse proxy, `X-Forwarded-Proto` and `X-Forwarded-Host` are honoured only
when `REVIEWQ_TRUST_PROXY=1` (Django's SECURE_PROXY_SSL_HEADER / USE_X_FORWARDED_HOST): anyone
can send them otherwise. What has no request (the CLI's `--json`, e-mails) uses PUBLIC_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from config import get_settings
from tasks.mail.outbox import public_url

#: the collections the links point into (each one a resource of the API)
BATCHES = "assignment-batches"
ITEMS = "assignment-items"
CALLS = "proposal-protected-calls"
PROPOSALS = "proposal-proposals"
REVIEWS = "proposal-reviews"
POOL_ENTRIES = "call-reviewer-pools"
CONFLICTS = "conflicts-of-interest"
USERS = "users"
REVIEWER_PROFILES = "reviewer-profiles"


@dataclass(frozen=True)
class Links:
    """Builds record urls under `base` (a request's own origin, or PUBLIC_URL)."""

    base: str

    @classmethod
    def public(cls) -> Links:
        """Links under the configured PUBLIC_URL (for answers without a request)."""
        return cls(public_url())

    @classmethod
    def of_request(cls, request: Request) -> Links:
        """Links under the origin the client addressed (see the module's docstring)."""
        return cls(request_origin(request))

    def of(self, collection: str, uuid: object) -> str:
        """The absolute API url of a record of `collection`."""
        return f"{self.base}/api/{collection}/{uuid}/"

    def optional(self, collection: str, uuid: object | None) -> str | None:
        """As `of`, None for a missing record."""
        return None if uuid is None else self.of(collection, uuid)


def _first(value: str | None) -> str:
    # a proxy chain appends: "https, http" -> the client-facing first value
    return (value or "").split(",")[0].strip()


def request_origin(request: Request) -> str:
    """`scheme://host[:port]` of the request, the forwarded ones only behind a trusted proxy."""
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if get_settings().trust_proxy:
        scheme = _first(request.headers.get("x-forwarded-proto")) or scheme
        host = _first(request.headers.get("x-forwarded-host")) or host
    if scheme not in ("http", "https"):
        scheme = "http"
    return f"{scheme}://{host}".rstrip("/")


def request_links(request: Request) -> Links:
    """The dependency of every router whose answers carry hyperlinks."""
    return Links.of_request(request)


RequestLinks = Annotated[Links, Depends(request_links)]
