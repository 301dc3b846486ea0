"""Hyperlinks between API records: `<base>/api/<collection>/<uuid>/`."""

from __future__ import annotations

from dataclasses import dataclass

from tasks.mail.outbox import public_url


@dataclass(frozen=True)
class Links:
    """Builds record urls under `base` (PUBLIC_URL today; a request's own url could do)."""

    base: str

    @classmethod
    def public(cls) -> Links:
        """Links under the configured PUBLIC_URL."""
        return cls(public_url())

    def of(self, collection: str, uuid: object) -> str:
        """The absolute API url of a record of `collection`."""
        return f"{self.base}/api/{collection}/{uuid}/"

    def optional(self, collection: str, uuid: object | None) -> str | None:
        """As `of`, None for a missing record."""
        return None if uuid is None else self.of(collection, uuid)
