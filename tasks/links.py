"""Personal response links: a signed token that lets one reviewer answer one batch, no login.

The token (itsdangerous, signed with config/secret.py's key, its own salt so that no other
signed value of reviewq passes for it) names the batch and the reviewer it was sent to. It
grants exactly one thing, answering that batch as that reviewer, for as long as the batch can
be answered: the answers go through the same use cases as the API, with a `BatchGrant` as the
actor (tasks/access.py). E-mails have no request, so the link is built from PUBLIC_URL.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from config.secret import secret_key
from store import AssignmentBatch, Call, ReviewerPoolEntry
from store.lookups import as_uuid
from tasks.errors import ReviewqError
from tasks.grants import BatchGrant
from tasks.mail.outbox import public_link

SALT = "reviewq.respond"


class InvalidLink(ReviewqError):
    """A response link whose signature does not hold, or that names no batch of its reviewer."""

    code = "INVALID_LINK"
    http_status = 400

    def __init__(self) -> None:
        super().__init__(
            "This link is not valid: it may have been altered or cut short. "
            "Open the link from your invitation e-mail again."
        )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(), salt=SALT)


def response_token(batch: AssignmentBatch) -> str:
    """The signed token of `batch`'s reviewer for `batch`."""
    entry: ReviewerPoolEntry = batch.reviewer_pool_entry
    return str(_serializer().dumps({"b": str(batch.uuid), "r": str(entry.reviewer.uuid)}))


def response_link(batch: AssignmentBatch) -> str:
    """`PUBLIC_URL/respond/<token>`: the personal link of the invitation and reminder."""
    return public_link("respond", response_token(batch))


def read_response_token(token: str) -> BatchGrant:
    """The grant of a token; InvalidLink when the signature fails, the batch is gone or the
    batch is not (any longer) addressed to the reviewer the token names."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise InvalidLink() from exc
    if not isinstance(data, dict):
        raise InvalidLink()
    batch_uuid, reviewer_uuid = as_uuid(str(data.get("b"))), as_uuid(str(data.get("r")))
    if batch_uuid is None or reviewer_uuid is None:
        raise InvalidLink()
    batch = (
        AssignmentBatch.select(AssignmentBatch, ReviewerPoolEntry)
        .join(ReviewerPoolEntry)
        .where(AssignmentBatch.uuid == batch_uuid)
        .first()
    )
    if batch is None or str(batch.reviewer_pool_entry.reviewer.uuid) != str(reviewer_uuid):
        raise InvalidLink()
    return BatchGrant(batch.id, batch.reviewer_pool_entry.reviewer_id)


def call_page_link(call: Call) -> str:
    """`PUBLIC_URL/calls/<uuid>`: the manager's page of the call (web/)."""
    return public_link("calls", str(call.uuid))


def review_link(review_public_id: str) -> str:
    """`PUBLIC_URL/me#review-<id>`: the reviewer's page, where each review they hold is listed
    (sign-in needed: a review is not one batch's answer)."""
    return f"{public_link('me')}#review-{quote(review_public_id, safe='')}"
