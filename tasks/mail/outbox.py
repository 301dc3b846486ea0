"""The outbox writer: every e-mail is rendered and recorded with the change that causes it.

A use case calls `queue_email` (or a kind's helper such as `queue_review_assigned`; several
e-mails at once: `queue_emails` with `outgoing(...)`s, one INSERT) inside the transaction that
makes its change, collects the ids it returns, and calls `enqueue_deliveries` with them only
AFTER that transaction has committed: a message sent earlier could be consumed before the
commit, or after a rollback, and find no row. A row whose message is lost (a crash between
commit and enqueue) stays pending until the scheduler's sweep re-drives it
(`redrivable_notification_ids`).

Adding a kind: write `templates/<name>.subject.j2`, `<name>.txt.j2` (plain text, no escaping)
and `<name>.html.j2` (autoescaped; extend `_layout.html.j2`), then a small typed helper here
that builds the context and the dedupe key, like `queue_review_assigned`. Every template sees
`recipient_name` and `public_url` besides its own context, and the `when` filter for instants.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderDefect, MessageError
from email.headerregistry import Address
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote
from uuid import uuid4

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from peewee import SQL, Select

from config import get_settings
from config.logs import current_request_id
from store.clock import to_naive_utc, utcnow
from store.compiled import CompiledQuery, rows_of, slot
from store.db import database
from store.enums import NotificationKind, NotificationStatus
from store.outbox import Notification
from workers.delivery import notification_pk, send_deliveries, stale_claim

TEMPLATE_DIR = Path(__file__).with_name("templates")
SUBJECT_MAX_CHARS = 200
NAME_MAX_CHARS = 300
ADDRESS_MAX_CHARS = 320
DEDUPE_KEY_MAX_CHARS = 255  # the column's width
#: how long a pending row waits for its own enqueue before a sweep sends it (the default of
#: REVIEWQ_OUTBOX_REDRIVE_AFTER_SECONDS)
REDRIVE_GRACE = timedelta(seconds=20)


class OutboxError(Exception):
    """A notification could not be written or handed to the workers."""


class InvalidRecipientError(OutboxError, ValueError):
    """The recipient is not one plain e-mail address."""


class TransactionRequiredError(OutboxError, RuntimeError):
    """An outbox row written outside a transaction could outlive the change it announces."""


class EnqueueInsideTransactionError(OutboxError, RuntimeError):
    """A delivery enqueued before the commit could run before (or without) its row."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingEmail:
    """One e-mail to write to the outbox, its recipient checked (see `outgoing`)."""

    kind: NotificationKind
    recipient: str
    recipient_name: str
    template: str
    context: Mapping[str, Any]
    dedupe_key: str


def outgoing(
    kind: NotificationKind,
    *,
    recipient: str,
    recipient_name: str,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
) -> OutgoingEmail:
    """An e-mail for `queue_emails`; InvalidRecipientError when `recipient` is not a single
    valid address, ValueError for a dedupe key the column cannot hold."""
    if not dedupe_key or len(dedupe_key) > DEDUPE_KEY_MAX_CHARS:
        raise ValueError(f"dedupe_key: 1 to {DEDUPE_KEY_MAX_CHARS} characters, got {dedupe_key!r}")
    return OutgoingEmail(
        kind=kind,
        recipient=validate_address(recipient),
        recipient_name=single_line(recipient_name, NAME_MAX_CHARS),
        template=template,
        context=context,
        dedupe_key=dedupe_key,
    )


def queue_email(
    kind: NotificationKind,
    *,
    recipient: str,
    recipient_name: str,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
) -> int | None:
    """Render `template` and insert one pending Notification, unless `dedupe_key` exists.

    Returns the new row's id, or None when a notification with this dedupe key was already
    written (then nothing is written). Must run inside the caller's transaction, so the row
    commits or rolls back with the change; it never enqueues (see `enqueue_deliveries`).
    Raises InvalidRecipientError when `recipient` is not a single valid address.
    """
    email = outgoing(
        kind,
        recipient=recipient,
        recipient_name=recipient_name,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
    )
    return queue_emails([email])[0]


def queue_emails(emails: Sequence[OutgoingEmail]) -> list[int | None]:
    """Render and insert these e-mails in one statement, each unless its dedupe key exists;
    the new ids in the order given (None where the key was already written, or given twice).
    Same contract as `queue_email`."""
    if not database.in_transaction():
        raise TransactionRequiredError(
            "queue_email must run inside the transaction of the change it announces"
        )
    if not emails:
        return []
    rows = []
    for email in emails:
        rendered = render_email(
            email.template, {**email.context, "recipient_name": email.recipient_name}
        )
        rows.append(
            (
                str(uuid4()),
                email.kind.value,
                email.recipient,
                email.recipient_name,
                rendered.subject,
                rendered.text,
                rendered.html,
                email.dedupe_key,
            )
        )
    # RETURNING yields no row where the conflict skipped the insert, on SQLite and PostgreSQL
    # alike (SQLite's lastrowid would instead repeat the connection's previous insert).
    found = _INSERT.tuples(rows=rows, now=utcnow(), request_id=current_request_id())
    written = {key: int(new_id) for new_id, key in found}
    ids: list[int | None] = []
    for email in emails:
        ids.append(written.pop(email.dedupe_key, None))
    return ids


_COLUMNS = {
    "uuid": "uuid",
    "kind": "text",
    "recipient": "text",
    "recipient_name": "text",
    "subject": "text",
    "text_body": "text",
    "html_body": "text",
    "dedupe_key": "text",
}


def _insert_query() -> Any:
    """Every e-mail of a change in one INSERT of constant text (store/compiled.py)."""
    given = rows_of("rows", _COLUMNS)
    n = Notification
    columns = [getattr(given.c, name) for name in _COLUMNS]
    values = Select(
        from_list=[given],
        columns=[
            *columns,
            slot("now", n.created),
            slot("now", n.modified),
            SQL(f"'{NotificationStatus.PENDING.value}'"),
            SQL("0"),
            SQL("''"),
            slot("request_id"),
        ],
    ).where(SQL("1 = 1"))  # SQLite reads an ON CONFLICT right after FROM as a join's ON
    fields = [getattr(n, name) for name in _COLUMNS]
    fields += [n.created, n.modified, n.status, n.attempts, n.last_error, n.request_id]
    return (
        n.insert_from(values, fields)
        .on_conflict(conflict_target=[n.dedupe_key], action="nothing")
        .returning(notification_pk, n.dedupe_key)
    )


_INSERT = CompiledQuery(_insert_query)


def enqueue_deliveries(ids: Iterable[int | None]) -> None:
    """Send the messages that deliver `ids` (workers.delivery.send_deliveries: one message
    for up to BATCH_SIZE rows); None ids (deduplicated) are skipped.

    Call it only after the transaction that wrote the rows has committed; inside an open
    transaction it raises EnqueueInsideTransactionError and sends nothing.
    """
    if database.in_transaction():
        raise EnqueueInsideTransactionError(
            "no enqueue inside an open transaction: call enqueue_deliveries after the commit"
        )
    wanted = [notification_id for notification_id in ids if notification_id is not None]
    if wanted:
        send_deliveries(wanted)


def render_email(template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """The subject (one line), text body and HTML body (user text escaped) of `template`."""
    full = {"public_url": public_url(), "recipient_name": "", **context}
    subject = _environment(html=False).get_template(f"{template}.subject.j2").render(full)
    return RenderedEmail(
        subject=single_line(subject, SUBJECT_MAX_CHARS),
        text=_environment(html=False).get_template(f"{template}.txt.j2").render(full),
        html=_environment(html=True).get_template(f"{template}.html.j2").render(full),
    )


def single_line(value: str, limit: int) -> str:
    """`value` on one line: every run of whitespace or control characters becomes one space.

    Nothing that passes through here can end a mail header or start another one.
    """
    spaced = "".join(" " if _breaks_line(char) else char for char in value)
    collapsed = " ".join(spaced.split())
    if len(collapsed) <= limit:
        return collapsed
    return collapsed[: limit - 1].rstrip() + "…"


def check_email(value: str) -> str:
    """`value` if it looks like one e-mail address (`local@domain.tld`, no spaces), else
    ValueError: the check of a stored address (data file, new user); `validate_address` is
    the stricter one a message is sent with."""
    local, at, domain = value.partition("@")
    if not (at and local and "." in domain.strip(".")) or any(c.isspace() for c in value):
        raise ValueError("not an e-mail address")
    return value


@lru_cache(maxsize=4096)
def validate_address(value: str) -> str:
    """`value` as one bare addr-spec (`user@domain`), or InvalidRecipientError saying why not
    (remembered per value: a pure function of it, and e-mail parsing is slow)."""
    candidate = value.strip()
    if not candidate or len(candidate) > ADDRESS_MAX_CHARS:
        raise InvalidRecipientError(f"recipient: {value!r} is not an e-mail address")
    if any(_breaks_line(char) or char.isspace() or char in ",;<>" for char in candidate):
        raise InvalidRecipientError(
            f"recipient: {value!r} must be one bare address, without spaces, names or separators"
        )
    try:
        address = Address(addr_spec=candidate)
    except (MessageError, HeaderDefect, ValueError, IndexError) as exc:
        raise InvalidRecipientError(
            f"recipient: {value!r} is not an e-mail address ({exc})"
        ) from exc
    if not address.username or not address.domain:
        raise InvalidRecipientError(f"recipient: {value!r} needs a local part and a domain")
    return address.addr_spec


def public_url() -> str:
    return get_settings().effective_public_url


def public_link(*segments: str) -> str:
    """An absolute link under PUBLIC_URL, each segment percent-encoded."""
    return "/".join([public_url(), *(quote(segment, safe="") for segment in segments)])


def notification_dedupe_key(kind: NotificationKind, *parts: object) -> str:
    """`kind:part:part...`: one notification per (kind, record, occasion)."""
    return ":".join([kind.value, *(str(part) for part in parts)])


# --- review assigned (seeds/004 with notifyReviewers) -------------------------------------


@dataclass(frozen=True)
class AssignedReview:
    """One review of a review-assigned message, as the reviewer should see it."""

    review_id: str
    proposal_title: str
    priority: str
    deadline: datetime | None


def review_assigned_email(
    *,
    request_id: str,
    reviewer_id: str,
    recipient: str,
    recipient_name: str,
    reviews: Sequence[AssignedReview],
) -> OutgoingEmail:
    """The ONE message telling a reviewer about every review one request gave them (at most
    once per (request, reviewer)); InvalidRecipientError as `outgoing`."""
    if not reviews:
        raise ValueError("queue_review_assigned needs at least one review")
    items = [_review_context(review) for review in reviews]
    return outgoing(
        NotificationKind.REVIEW_ASSIGNED,
        recipient=recipient,
        recipient_name=recipient_name,
        template="review_assigned",
        context={"reviews": items},
        dedupe_key=notification_dedupe_key(
            NotificationKind.REVIEW_ASSIGNED, request_id, reviewer_id
        ),
    )


def queue_review_assigned(
    *,
    request_id: str,
    reviewer_id: str,
    recipient: str,
    recipient_name: str,
    reviews: Sequence[AssignedReview],
) -> int | None:
    """Queue `review_assigned_email`; same contract as `queue_email`."""
    email = review_assigned_email(
        request_id=request_id,
        reviewer_id=reviewer_id,
        recipient=recipient,
        recipient_name=recipient_name,
        reviews=reviews,
    )
    return queue_emails([email])[0]


def _review_context(review: AssignedReview) -> dict[str, Any]:
    from tasks.links import review_link  # tasks.links builds on this module

    return {
        "review_id": review.review_id,
        "proposal_title": review.proposal_title,
        "priority": review.priority,
        "deadline": review.deadline,
        "link": review_link(review.review_id),
    }


# --- rendering -----------------------------------------------------------------------------


@cache
def _environment(*, html: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        auto_reload=False,  # templates ship with the code: no stat of the file per message
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = _format_instant
    return env


def _format_instant(value: datetime | None) -> str:
    if value is None:
        return "no deadline"
    return to_naive_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _breaks_line(char: str) -> bool:
    # Control characters and line/paragraph separators (CR, LF, NEL, U+2028...) can end a
    # header line in some parser or other.
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}


def redrivable_notification_ids(
    now: datetime, *, older_than: timedelta = REDRIVE_GRACE, limit: int = 1000
) -> list[int]:
    """Ids a sweep should enqueue again: rows left pending or stuck in sending.

    Pending rows count once their next attempt (or, never tried, their creation) is
    `older_than` in the past, which leaves the normal enqueue time to act first (a row whose
    delivery failed waits for its `next_attempt_at` too); `sending` rows count once their claim
    is stale (workers.delivery.stale_claim). Enqueueing a row twice is harmless: only one run
    claims it.
    """
    due = now - older_than
    next_at = Notification.next_attempt_at
    pending_due = (Notification.status == NotificationStatus.PENDING) & (
        (next_at.is_null(False) & (next_at <= due))
        | (next_at.is_null() & (Notification.created <= due))
    )
    stuck = (Notification.status == NotificationStatus.SENDING) & (
        Notification.claimed_at < now - stale_claim()
    )
    query = (
        Notification.select(notification_pk)
        .where(pending_due | stuck)
        .order_by(notification_pk)
        .limit(limit)
        .tuples()
    )
    rows = cast("Iterable[tuple[int]]", query)  # .tuples(), which the stubs do not track
    return [int(notification_id) for (notification_id,) in rows]
