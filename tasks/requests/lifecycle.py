"""The life of a queued assignment request: submitted, run once, its result read back.

A message is `{"request": BODY, "request_id": UUID?, "idempotency_key": STR?}`
(tasks/messages.py). The request row is found by id, else by idempotency key, else created, so a
producer in any language needs only the message. A finished request is never run again: a
redelivered or duplicate message changes nothing and the first result stands. A row the message
creates is written, finished, at the end of the transaction that runs it (a rollback leaves
nothing; the redelivery starts afresh); a row a producer wrote first is marked `running`
(attempts + 1) in its own commit, then run under its row lock. A request that fails for good
(a domain error, a value the database refuses) is rolled back whole and its failure recorded
in a transaction of its own, so a run needs no savepoint. The hot statements are built once
(store/compiled.py).

Input errors fail once, at once, as VALIDATION_ERROR on a request row: a message that is not an
envelope gets a failed row of its own; an envelope whose body cannot be stored fails its own
row; a value the handler or the database refuses (INPUT_ERRORS) fails the row too. Only the
other errors (the database or Redis down) propagate, for the actor to be retried.

Whoever waits for a request (`wait_for_request`: the HTTP answer of a queued request, the CLI)
is woken by a completion token the worker pushes after the commit that finished it
(tasks/requests/completion.py), and reads the store to learn the result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from peewee import DataError, IntegrityError
from pydantic import ValidationError

from store import AssignmentRequest, write_transaction
from store.clock import utcnow
from store.compiled import CompiledQuery, slot
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind, RequestStatus
from store.locks import locked
from tasks.errors import IdempotencyKeyMismatch, ReviewqError, ValidationFailed
from tasks.messages import RequestEnvelope, RequestMessage, parse_request_message
from tasks.requests.completion import announce_finished, await_finished
from tasks.results import StoredAnswer

Handler = Callable[..., StoredAnswer]  # (raw body, *, request_uuid, now)
#: What a handler raises for a value it (or the database) cannot take: the caller's input,
#: never worth a retry (a NUL psycopg2 refuses, an instant past year 9999, a number too big).
INPUT_ERRORS = (DataError, ValueError, OverflowError, UnicodeError)
#: A waiter reads the store at least this often, token or not (a missed token costs this much).
WAIT_SLICE_SECONDS = 1.0
#: Without Redis a waiter polls the store, backing off from `poll` up to this.
MAX_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Outcome:
    """What running a request produced: its response body, and mail to deliver after commit."""

    status: RequestStatus
    notification_ids: list[int]


def submit_request(
    kind: RequestKind,
    body: Any,
    *,
    idempotency_key: str | None = None,
    requested_by: int | None = None,
) -> tuple[AssignmentRequest, bool]:
    """Record a queued request; with a known idempotency key, return the first one instead.

    Returns (request, created). The caller enqueues the message only after this returned, never
    inside a transaction. A known key with another body, user or kind raises
    IdempotencyKeyMismatch, before anything is enqueued, and the first request is untouched.
    """
    try:
        with write_transaction():
            if idempotency_key is not None:
                existing = AssignmentRequest.get_or_none(
                    AssignmentRequest.idempotency_key == idempotency_key
                )
                if existing is not None:
                    return _first_use(existing, kind, requested_by, body), False
            request = AssignmentRequest.create(
                kind=kind, idempotency_key=idempotency_key, payload=body, requested_by=requested_by
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        # Two first uses of one key at once: the other committed first; answer as a retry.
        existing = AssignmentRequest.get(AssignmentRequest.idempotency_key == idempotency_key)
        return _first_use(existing, kind, requested_by, body), False
    return request, True


def _first_use(
    existing: AssignmentRequest, kind: RequestKind, requested_by: int | None, body: Any
) -> AssignmentRequest:
    """The request that first used a key, when this use is the same (kind, user, body);
    IdempotencyKeyMismatch otherwise."""
    if (existing.kind, existing.requested_by_id, existing.payload) != (kind, requested_by, body):
        raise IdempotencyKeyMismatch()
    return existing


def process_request(
    kind: RequestKind, message: RequestMessage | Any, handler: Handler
) -> Outcome | None:
    """Run one request message exactly once in effect; None when it had already finished.

    `message` is the actor's checked arguments (tasks.messages.parse_request_message), or the
    one raw message. Validation failures and domain errors are recorded on the request (never
    retried); transient errors (database down) propagate so that the actor is retried. Once
    the request has finished (now or before) its waiters are woken, after the commit: call it
    outside any transaction.
    """
    if not isinstance(message, RequestMessage):
        message = parse_request_message((message,), {})
    envelope = message.envelope
    if envelope is None:
        assert message.error is not None
        return _record_malformed(kind, message.raw, message.error)
    if message.error is None:
        found = _find(envelope)
        if found is None:
            outcome = _create_and_run(kind, envelope, handler)
            if outcome is not None:
                # only a waiter given the request id can be waiting for a request created here
                if envelope.request_id is not None:
                    announce_finished(envelope.request_id)
                return outcome
            found = _find(envelope)  # the same message, delivered twice at once, won
            assert found is not None
    else:
        found = _find(envelope) or _create_queued(kind, envelope)
    outcome = _run(found, message, envelope, handler)
    announce_finished(found.uuid)
    return outcome


def _run(
    request: _Found, message: RequestMessage, envelope: RequestEnvelope, handler: Handler
) -> Outcome | None:
    """Finish the request (each path commits); None when it had finished already."""
    if request.status in FINISHED_REQUEST_STATUSES:
        return None
    if message.error is not None:
        return _fail_at_once(request.id, message.error)
    _START.execute(id=request.id, now=utcnow())
    return _run_locked(request.id, envelope.request, handler)


def _run_locked(request_id: int, body: Any, handler: Handler) -> Outcome | None:
    """Run a request a row records, under its row lock; None when it had finished already."""
    try:
        with write_transaction():
            ((request_uuid, status),) = _LOCK.tuples(id=request_id)
            if status in FINISHED_REQUEST_STATUSES:
                return None
            now = utcnow()
            result = handler(body, request_uuid=request_uuid, now=now)
            _finish(request_id, _Finished.succeeded(result, now))
            return Outcome(RequestStatus.SUCCEEDED, list(result.notification_ids))
    except REFUSALS as exc:  # rolled back: nothing the handler wrote stands
        error = _refusal(exc)
    with write_transaction():
        ((_, status),) = _LOCK.tuples(id=request_id)
        if status in FINISHED_REQUEST_STATUSES:
            return None
        _finish(request_id, _Finished.failed(error, utcnow()))
    return Outcome(RequestStatus.FAILED, [])


class _Taken(Exception):
    """The request's id or key was written by a concurrent delivery of the same message."""


def _create_and_run(
    kind: RequestKind, envelope: RequestEnvelope, handler: Handler
) -> Outcome | None:
    """A request no row records yet: run, and its row written finished, in ONE transaction (a
    rollback leaves nothing, and the redelivered message starts afresh); None when a
    concurrent delivery of the same message wrote the row first (its id or key is taken).

    The row is written last, with the result, so that a run is one INSERT and no UPDATE; a
    concurrent duplicate waits on the row's unique id at that INSERT until the first commits,
    then finds it taken and rolls back everything it did."""
    now = utcnow()
    request_uuid = envelope.request_id or uuid4()
    try:
        with write_transaction():
            result = handler(envelope.request, request_uuid=request_uuid, now=now)
            finished = _Finished.succeeded(result, utcnow())
            if _insert(kind, envelope, request_uuid, now, finished) is None:
                raise _Taken()
            return Outcome(RequestStatus.SUCCEEDED, list(result.notification_ids))
    except _Taken:
        return None
    except REFUSALS as exc:  # rolled back: nothing the handler wrote stands
        error = _refusal(exc)
    with write_transaction():
        if _insert(kind, envelope, request_uuid, now, _Finished.failed(error, utcnow())) is None:
            return None
    return Outcome(RequestStatus.FAILED, [])


@dataclass(frozen=True)
class _Finished:
    """How a request ended: its status, response body and HTTP status, and when."""

    status: RequestStatus
    body: dict[str, Any]
    http_status: int
    at: datetime

    @classmethod
    def succeeded(cls, result: StoredAnswer, at: datetime) -> _Finished:
        return cls(RequestStatus.SUCCEEDED, result.to_json(), 200, at)

    @classmethod
    def failed(cls, error: ReviewqError, at: datetime) -> _Finished:
        return cls(RequestStatus.FAILED, error.body(), error.http_status, at)

    @property
    def error(self) -> Any:
        """The error object of a failed request's body (None when it succeeded)."""
        return self.body.get("error") if self.status == RequestStatus.FAILED else None


def _insert(
    kind: RequestKind,
    envelope: RequestEnvelope,
    request_uuid: UUID,
    now: datetime,
    finished: _Finished | None,
) -> int | None:
    """The new row's id, finished (attempts 1, started now) or queued (`finished` None); None
    when the message's id or key is taken (a concurrent delivery of the same message wrote it
    first)."""
    rows = _CREATE.tuples(
        uuid=request_uuid,
        now=now,
        kind=kind,
        payload=envelope.request,
        key=envelope.idempotency_key,
        status=finished.status if finished else RequestStatus.QUEUED,
        attempts=1 if finished else 0,
        started_at=now if finished else None,
        result=finished.body if finished else None,
        error=finished.error if finished else None,
        http_status=finished.http_status if finished else None,
        finished_at=finished.at if finished else None,
    )
    return int(rows[0][0]) if rows else None


#: What a handler may raise that fails the request for good (never retried): a domain error,
#: or a value it (or the database) cannot take.
REFUSALS = (ReviewqError, *INPUT_ERRORS)


def _refusal(exc: Exception) -> ReviewqError:
    """The error a request fails with, for an exception in REFUSALS."""
    if isinstance(exc, ReviewqError):
        return exc
    return ValidationFailed([{"field": "request", "message": _refused(exc)}])


def _refused(exc: Exception) -> str:
    return f"holds a value that cannot be stored ({type(exc).__name__})"


def _fail_at_once(request_id: int, error: ValidationFailed) -> Outcome | None:
    """Record an input error on the request; None when it had finished already."""
    with write_transaction():
        ((_, status),) = _LOCK.tuples(id=request_id)
        if status in FINISHED_REQUEST_STATUSES:
            return None
        now = utcnow()
        AssignmentRequest.update(started_at=now, attempts=AssignmentRequest.attempts + 1).where(
            AssignmentRequest.id == request_id
        ).execute()
        _finish(request_id, _Finished.failed(error, now))
    return Outcome(RequestStatus.FAILED, [])


def _finish(request_id: int, finished: _Finished) -> None:
    _FINISH.execute(
        id=request_id,
        status=finished.status,
        result=finished.body,
        error=finished.error,
        http_status=finished.http_status,
        now=finished.at,
    )


@dataclass(frozen=True)
class _Found:
    """The request a message names."""

    id: int
    status: RequestStatus
    uuid: UUID


def _find(envelope: RequestEnvelope) -> _Found | None:
    """The request of the message's id, else of its idempotency key; None if neither is known."""
    if envelope.request_id is not None:
        rows = _BY_UUID.tuples(uuid=envelope.request_id)
        if rows:
            return _Found(*rows[0])
    if envelope.idempotency_key is not None:
        rows = _BY_KEY.tuples(key=envelope.idempotency_key)
        if rows:
            return _Found(*rows[0])
    return None


def _create_queued(kind: RequestKind, envelope: RequestEnvelope) -> _Found:
    """A queued row for a message whose arguments are wrong (to record why on it)."""
    request_uuid = envelope.request_id or uuid4()
    with write_transaction():
        new_id = _insert(kind, envelope, request_uuid, utcnow(), None)
    if new_id is None:  # the same message, delivered twice at once: the other one won
        found = _find(envelope)
        assert found is not None
        return found
    return _Found(new_id, RequestStatus.QUEUED, request_uuid)


R = AssignmentRequest
_FINISHED = list(FINISHED_REQUEST_STATUSES)
#: The statements of every run, each built once (store/compiled.py).
_BY_UUID = CompiledQuery(
    lambda: R.select(R.id, R.status, R.uuid).where(R.uuid == slot("uuid", R.uuid))
)
_BY_KEY = CompiledQuery(
    lambda: R.select(R.id, R.status, R.uuid).where(R.idempotency_key == slot("key"))
)
_REQUEST = CompiledQuery(lambda: R.select().where(R.uuid == slot("uuid", R.uuid)))
_LOCK = CompiledQuery(lambda: locked(R.select(R.uuid, R.status).where(R.id == slot("id"))))
_CREATE = CompiledQuery(
    lambda: (
        R.insert(
            uuid=slot("uuid", R.uuid),
            created=slot("now", R.created),
            modified=slot("now", R.modified),
            kind=slot("kind", R.kind),
            payload=slot("payload", R.payload),
            idempotency_key=slot("key"),
            status=slot("status", R.status),
            attempts=slot("attempts"),
            started_at=slot("started_at", R.started_at),
            result=slot("result", R.result),
            error=slot("error", R.error),
            http_status=slot("http_status"),
            finished_at=slot("finished_at", R.finished_at),
        )
        .on_conflict_ignore()  # a concurrent delivery of the same message took its id or key
        .returning(R.id)
    )
)
_START = CompiledQuery(
    lambda: R.update(
        status=RequestStatus.RUNNING,
        started_at=slot("now", R.started_at),
        attempts=R.attempts + 1,
    ).where(R.id == slot("id"), R.status.not_in(_FINISHED))
)
_FINISH = CompiledQuery(
    lambda: R.update(
        status=slot("status", R.status),
        result=slot("result", R.result),
        error=slot("error", R.error),
        http_status=slot("http_status"),
        finished_at=slot("now", R.finished_at),
    ).where(R.id == slot("id"))
)


def _record_malformed(kind: RequestKind, message: Any, error: ReviewqError) -> Outcome:
    """A message that is not even an envelope: record it as a failed request of its own."""
    payload = message if _json_safe(message) else repr(message)
    now = utcnow()
    with write_transaction():
        AssignmentRequest.create(
            kind=kind,
            payload=payload,
            status=RequestStatus.FAILED,
            result=error.body(),
            error=error.body()["error"],
            http_status=error.http_status,
            started_at=now,
            finished_at=now,
        )
    return Outcome(RequestStatus.FAILED, [])


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def record_gave_up(message: Any, error: ReviewqError) -> bool:
    """Mark the request of `message` failed after its retries ran out, and wake its waiters;
    False if none matched (or it had finished already)."""
    try:
        envelope = RequestEnvelope.model_validate(message)
    except ValidationError:
        return False
    if envelope.request_id is not None:
        match = AssignmentRequest.uuid == envelope.request_id
    elif envelope.idempotency_key is not None:
        match = AssignmentRequest.idempotency_key == envelope.idempotency_key
    else:
        return False
    updated = AssignmentRequest.update(
        status=RequestStatus.FAILED,
        result=error.body(),
        error=error.body()["error"],
        http_status=error.http_status,
        finished_at=utcnow(),
    ).where(match, AssignmentRequest.status.not_in(list(FINISHED_REQUEST_STATUSES)))
    if not updated.execute():
        return False
    for request in AssignmentRequest.select(AssignmentRequest.uuid).where(match):
        announce_finished(request.uuid)
    return True


class RequestTimeout(TimeoutError):
    """The request did not finish in time (no worker running, or a long queue)."""


def wait_for_request(
    request_uuid: UUID | str,
    *,
    timeout: float = 120.0,
    poll: float = 0.05,
    on_poll: Callable[[AssignmentRequest], None] | None = None,
    read_first: bool = True,
) -> AssignmentRequest:
    """The request once it has finished; RequestTimeout after `timeout` s.

    Reads the store, then waits for the worker's completion token (tasks/requests/completion.py)
    for at most WAIT_SLICE_SECONDS, and reads again, until the request has finished. When Redis
    cannot be listened to, it polls the store instead, backing off from `poll` to
    MAX_POLL_SECONDS. `read_first=False` listens before the first read: for a request just
    queued, which cannot have finished without its token being there to pop.
    """
    deadline = time.monotonic() + timeout
    listening = True
    if not read_first:
        listening = await_finished(request_uuid, min(timeout, WAIT_SLICE_SECONDS))
    while True:
        request = _REQUEST.first(AssignmentRequest, uuid=request_uuid)
        if request is None:
            raise AssignmentRequest.DoesNotExist(f"no request {request_uuid}")
        if request.status in FINISHED_REQUEST_STATUSES:
            return request
        if on_poll is not None:
            on_poll(request)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout(f"request {request_uuid} is still {request.status.value}")
        if listening:
            listening = await_finished(request_uuid, min(remaining, WAIT_SLICE_SECONDS))
        if not listening:
            time.sleep(min(poll, remaining))
            poll = min(poll * 1.5, MAX_POLL_SECONDS)
