"""Delivery of outbox rows: the `deliver_notification` actor (queue `mail`), and
`deliver_notifications` for several rows in one message (the e-mails of one change).

Safe to run twice, or concurrently, for one row:

1. claim: one conditional UPDATE turns the row `pending` -> `sending` (attempts + 1,
   claimed_at = now). It also takes back a row left in `sending` for longer than the stale
   claim (`REVIEWQ_OUTBOX_STALE_CLAIM_SECONDS`, 30 s), whose worker died. The stale claim stays
   above the actor's time limit (20 s; the SMTP timeout is 10 s per operation), so a live
   delivery is never taken back, and short enough that with the scheduler's sweep (every
   10 s) a crashed worker's mail goes out within a minute of recovery. When nothing is
   claimed the row is sent, failed or in flight: return.
2. send through the transport (SMTP, or the `.eml` drop).
3. mark it `sent`, only while our claim holds (same attempts count: the claim's fencing token).

On a transport error the row goes back to `pending` with last_error and next_attempt_at, and the
actor raises `dramatiq.Retry` with that same delay; after MAX_ATTEMPTS claims, or when the server
refuses the recipient for good, the row is `failed` and the message fails without retry.

The one at-most-once gap: if the process dies (or the database becomes unreachable) after the
SMTP server accepted the message and before the mark commits, the row stays `sending`, is
reclaimed after the stale claim, and the mail goes out a second time. The second copy carries the
same Message-ID (derived from the row's uuid), so it is recognisable. The window is the one
short UPDATE that follows the accept.

`deliver_notifications` claims all its rows in one UPDATE (one statement and one commit
instead of one per row), then sends and marks them one after the other, each as above: the
at-most-once gap stays one row wide. A row whose delivery fails transiently gets a
`deliver_notification` message of its own, with the row's retry delay, so that one slow or
refusing recipient never holds the others back; what is left once the batch has run for
BATCH_SECONDS is given back (`pending`, its claim's attempt undone) and goes on in a new batch
message, so that every message stays well inside the time limit, and so inside the claim. A
crash mid-batch leaves the rows not yet sent `sending` until their claim goes stale; the
scheduler's sweep then sends them (within a minute: the stale claim, then the next sweep).

Nothing here logs a body, a subject or a link: only ids, counts and error classes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, NoReturn, cast

import dramatiq
from peewee import AutoField, Expression

from config import get_settings
from store.clock import utcnow
from store.compiled import CompiledQuery, among, slot
from store.enums import NotificationStatus
from store.outbox import Notification
from workers.broker import actor, retry_transient
from workers.mail import (
    DeliveryError,
    MailTransport,
    PermanentDeliveryError,
    build_email,
    transport_from_settings,
)
from workers.middleware.observe import mail_deliveries
from workers.redis_keys import MAIL_QUEUE

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 15
#: The default stale claim (settings.outbox_stale_claim_seconds): above the actor's time limit.
STALE_CLAIM = timedelta(seconds=30)
ACTOR_TIME_LIMIT_MS = 20_000
MIN_RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(hours=1)
LAST_ERROR_MAX_CHARS = 1000
#: dramatiq's priority of deliveries within a worker (the lower runs first; every other actor
#: has 0): a worker with queued requests and mail to send runs the requests first, so a burst
#: of assignments is not slowed by its own e-mail, which follows as soon as the burst ends.
DELIVERY_PRIORITY = 10
#: The most rows one `deliver_notifications` message carries (enqueue_deliveries splits more,
#: so that a burst of reminders still spreads over every worker thread) ...
BATCH_SIZE = 25
#: ... and how long it delivers before it hands the rest to a new message (half the time limit).
BATCH_SECONDS = ACTOR_TIME_LIMIT_MS / 2000

# The implicit `id` primary key, typed (the peewee stubs do not know it); lower case so that
# linters read it as the column it is, not as a constant to put on the right of `==`.
notification_pk = cast("AutoField[int]", Notification._meta.primary_key)


class DeliveryOutcome(StrEnum):
    SENT = "sent"
    NOT_CLAIMED = "not_claimed"


class NotificationFailedError(Exception):
    """The notification is marked failed: retrying the message cannot help."""


class InvalidDeliveryMessageError(ValueError):
    """The message does not carry a notification id."""


@dataclass(frozen=True)
class Claim:
    """A row this run holds: `attempts` is the fencing token later updates must still match."""

    notification_id: int
    attempts: int
    notification: Notification


@actor(
    queue_name=MAIL_QUEUE,
    max_retries=MAX_ATTEMPTS,
    retry_when=retry_transient(MAX_ATTEMPTS),
    time_limit=ACTOR_TIME_LIMIT_MS,
    throws=(NotificationFailedError, InvalidDeliveryMessageError),
    priority=DELIVERY_PRIORITY,
)
def deliver_notification(notification_id: int) -> None:
    """Deliver one outbox row at most once (see the module docstring for the one gap)."""
    _deliver_counted(_checked_id(notification_id))


@actor(
    queue_name=MAIL_QUEUE,
    max_retries=MAX_ATTEMPTS,
    retry_when=retry_transient(MAX_ATTEMPTS),
    time_limit=ACTOR_TIME_LIMIT_MS,
    throws=(InvalidDeliveryMessageError,),
    priority=DELIVERY_PRIORITY,
)
def deliver_notifications(notification_ids: list[int]) -> None:
    """Deliver several outbox rows, each at most once, one after the other (see the module
    docstring): one message instead of one per row."""
    if not isinstance(notification_ids, list):
        raise InvalidDeliveryMessageError(
            f"notification_ids: expected a list of integer ids, got {notification_ids!r}"
        )
    ids = [_checked_id(value) for value in notification_ids]
    ends = time.monotonic() + BATCH_SECONDS
    claims = claim_notifications(ids, utcnow())
    for position, notification_id in enumerate(ids):
        if position and time.monotonic() > ends:
            rest = list(dict.fromkeys(i for i in ids[position:] if i in claims))
            _give_back([claims[i] for i in rest], utcnow())
            send_deliveries(rest)
            return
        claim = claims.pop(notification_id, None)  # an id listed twice is sent once
        if claim is None:  # sent, failed or in flight: as `deliver` finds it
            mail_deliveries().labels(DeliveryOutcome.NOT_CLAIMED.value).inc()
            continue
        try:
            _counted(partial(deliver_claimed, claim))
        except NotificationFailedError:
            continue  # marked failed: nothing to retry
        except dramatiq.Retry as retry:
            deliver_notification.send_with_options(args=(notification_id,), delay=retry.delay)


def _deliver_counted(notification_id: int) -> None:
    """`deliver`, counted (`_counted`)."""
    _counted(lambda: deliver(notification_id))


def _counted(run: Callable[[], DeliveryOutcome]) -> None:
    """A delivery, counted in `reviewq_mail_deliveries_total` by its outcome (a failure or a
    retry is counted, then raised on)."""
    counted = mail_deliveries()
    try:
        outcome = run()
    except NotificationFailedError:
        counted.labels("failed").inc()
        raise
    except dramatiq.Retry:
        counted.labels("retried").inc()
        raise
    counted.labels(outcome.value).inc()


def send_deliveries(ids: Sequence[int]) -> None:
    """The messages that deliver `ids`: one `deliver_notifications` per BATCH_SIZE rows (a
    batch of one is a `deliver_notification`). Only outside a transaction (the caller's
    concern: tasks.mail.outbox.enqueue_deliveries)."""
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(ids[start : start + BATCH_SIZE])
        if len(batch) == 1:
            deliver_notification.send(batch[0])
        else:
            deliver_notifications.send(batch)


def _checked_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDeliveryMessageError(f"notification_id: expected an integer id, got {value!r}")
    return value


def deliver(notification_id: int, transport: MailTransport | None = None) -> DeliveryOutcome:
    """Claim, send and mark one notification; NOT_CLAIMED when another run has or had it.

    Raises dramatiq.Retry (row back to pending) on a transient error, and
    NotificationFailedError once the row is marked failed. `transport` defaults to the one
    the settings name.
    """
    claim = claim_notification(notification_id, utcnow())
    if claim is None:
        logger.debug("notification %s not claimed: sent, failed or in flight", notification_id)
        return DeliveryOutcome.NOT_CLAIMED
    return deliver_claimed(claim, transport)


def deliver_claimed(claim: Claim, transport: MailTransport | None = None) -> DeliveryOutcome:
    """Send and mark a row this run has claimed (`deliver` without the claim)."""
    settings = get_settings()
    try:
        message = build_email(claim.notification, sender=settings.mail_from)
        (transport or transport_from_settings(settings)).send(message)
    except (DeliveryError, ValueError) as exc:  # ValueError: a header the policy refuses
        _record_failure(claim, exc, utcnow())
    _mark_sent(claim, utcnow())
    return DeliveryOutcome.SENT


def claim_notification(notification_id: int, now: datetime) -> Claim | None:
    """Take the row for this run with one conditional UPDATE; None when it is not claimable."""
    rows = _CLAIM.tuples(id=notification_id, now=now, stale_before=now - stale_claim())
    return _claim_of(rows[0]) if rows else None


def claim_notifications(ids: Sequence[int], now: datetime) -> dict[int, Claim]:
    """Take the claimable rows of `ids` for this run, all in one conditional UPDATE; by id.

    A claim holds until it goes stale, so a run that claims several rows at once must send
    them within the stale claim: `deliver_notifications` runs under the actor's time limit
    (ACTOR_TIME_LIMIT_MS, below the stale claim) and gives back what it has not sent after
    BATCH_SECONDS."""
    rows = _CLAIM_ALL.tuples(ids=list(ids), now=now, stale_before=now - stale_claim())
    claims = (_claim_of(row) for row in rows)
    return {claim.notification_id: claim for claim in claims}


def _claim_of(row: tuple[Any, ...]) -> Claim:
    notification = Notification(**dict(zip(_NOTIFICATION_FIELDS, row, strict=True)))
    return Claim(int(notification.id), int(notification.attempts), notification)


def _give_back(claims: Sequence[Claim], now: datetime) -> None:
    """Rows claimed and not sent back to `pending` as they were (the claim's attempt undone),
    for another run to take at once."""
    for claim in claims:
        _release(claim, now, status=NotificationStatus.PENDING, attempts=claim.attempts - 1)


_NOTIFICATION_FIELDS = [field.name for field in Notification._meta.sorted_fields]


def _claim_query(which: Expression | None = None) -> Any:
    now = slot("now", Notification.claimed_at)
    claimable = (Notification.status == NotificationStatus.PENDING) | (
        (Notification.status == NotificationStatus.SENDING)
        & (Notification.claimed_at < slot("stale_before", Notification.claimed_at))
    )
    return (
        Notification.update(
            status=NotificationStatus.SENDING,
            attempts=Notification.attempts + 1,
            claimed_at=now,
            modified=now,
        )
        .where((notification_pk == slot("id") if which is None else which) & claimable)
        .returning(*Notification._meta.sorted_fields)
    )


#: The claim of every delivery, and of a batch's rows, each built once (store/compiled.py).
_CLAIM = CompiledQuery(_claim_query)
_CLAIM_ALL = CompiledQuery(lambda: _claim_query(among(notification_pk, "ids")))


def stale_claim() -> timedelta:
    """How long a `sending` row's claim holds before another run may take the row back."""
    return timedelta(seconds=get_settings().outbox_stale_claim_seconds)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed try, capped at MAX_RETRY_DELAY."""
    return min(MIN_RETRY_DELAY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def _mark_sent_query() -> Any:
    now = slot("now", Notification.sent_at)
    return Notification.update(
        status=NotificationStatus.SENT,
        sent_at=now,
        claimed_at=None,
        next_attempt_at=None,
        last_error="",
        modified=now,
    ).where(_still_held(slot("id"), slot("attempts")))


#: The mark of every delivery, built once (store/compiled.py).
_MARK_SENT = CompiledQuery(_mark_sent_query)


def _mark_sent(claim: Claim, now: datetime) -> None:
    updated = _MARK_SENT.count(id=claim.notification_id, attempts=claim.attempts, now=now)
    if not updated:
        logger.warning("notification %s sent after its claim was taken back", claim.notification_id)


def _record_failure(claim: Claim, exc: Exception, now: datetime) -> NoReturn:
    """Put the row back to pending (raise Retry) or mark it failed (NotificationFailedError)."""
    error = _describe(exc)
    attempt = (claim.notification_id, claim.attempts, error)
    if isinstance(exc, PermanentDeliveryError) or claim.attempts >= MAX_ATTEMPTS:
        _release(claim, now, status=NotificationStatus.FAILED, last_error=error)
        logger.error("notification %s failed for good at attempt %s: %s", *attempt)
        raise NotificationFailedError(f"notification {claim.notification_id}: {error}") from exc
    delay = retry_delay(claim.attempts)
    _release(
        claim, now, status=NotificationStatus.PENDING, last_error=error, next_attempt_at=now + delay
    )
    logger.warning("notification %s attempt %s failed, will retry: %s", *attempt)
    raise dramatiq.Retry(
        f"notification {claim.notification_id}: {error}", delay=int(delay.total_seconds() * 1000)
    ) from exc


def _describe(exc: Exception) -> str:
    # A DeliveryError already names its cause (`ConnectionRefusedError: ...`).
    text = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
    return text[:LAST_ERROR_MAX_CHARS]


def _release(claim: Claim, now: datetime, **values: object) -> None:
    held = _still_held(claim.notification_id, claim.attempts)
    Notification.update(claimed_at=None, modified=now, **values).where(held).execute()


def _still_held(notification_id: Any, attempts: Any) -> Expression:
    """The row is still `sending` under the claim that took it (its attempts count: the
    fencing token); the id and count as values, or as slots of a compiled query."""
    return (
        (notification_pk == notification_id)
        & (Notification.status == NotificationStatus.SENDING)
        & (Notification.attempts == attempts)
    )
