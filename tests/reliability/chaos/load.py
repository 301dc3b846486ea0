"""The load of a chaos run: waves of overlapping pools whose caps bind, sent by one long-lived
producer that keeps going through every fault.

A wave is a call with `reviewers` reviewers (each an accepted pool entry with room for `cap`),
`requests` seeds/004 requests of `reviews_per_request` reviews each, every request over a window
of `pool_size` consecutive reviewers (the windows overlap, the strategies rotate) with
`maxPerReviewer = cap`. A wave asks for more reviews than its reviewers have slots, so a
capacity check that let one through would show in the review rows. Each wave also holds
`batches` sent assignment batches that expire a few seconds after it is built, for the
scheduler's expiry, notices and reminders.

The producer is what a real client does: record and enqueue each request (tasks/producers.py),
and on any error (Redis unreachable: BrokerUnavailable; PostgreSQL down) try again with the
same idempotency key until it is accepted. A request counts as accepted when an enqueue
returned without error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from store import Call, database
from store.clock import utcnow
from tasks.producers import enqueue_assign_reviews
from tests.factories import (
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
    make_sent_batch,
)

logger = logging.getLogger(__name__)

STRATEGIES = ("round_robin", "load_balanced", "specific")


@dataclass(frozen=True)
class WaveShape:
    reviewers: int = 6
    cap: int = 4
    requests: int = 12
    reviews_per_request: int = 3
    pool_size: int = 3
    batches: int = 2
    #: the wave's batches expire this long after it is built
    expire_after: timedelta = timedelta(seconds=3)

    @property
    def slots(self) -> int:
        return self.reviewers * self.cap

    @property
    def asked(self) -> int:
        return self.requests * self.reviews_per_request


def wave_requests(number: int, shape: WaveShape) -> list[tuple[str, dict[str, Any]]]:
    """Wave `number`'s requests as (idempotency key, body): a function of the number only."""
    requests = []
    for j in range(shape.requests):
        reviews = [f"w{number}q{j}r{k}" for k in range(shape.reviews_per_request)]
        window = [f"w{number}u{(j + m) % shape.reviewers}" for m in range(shape.pool_size)]
        kind = STRATEGIES[j % len(STRATEGIES)]
        strategy: dict[str, Any] = {"type": kind, "maxPerReviewer": shape.cap}
        strategy["assignTo" if kind == "specific" else "pool"] = window
        body = {"reviewIds": reviews, "assignmentStrategy": strategy}
        requests.append((f"chaos-w{number}-q{j}", body))
    return requests


def build_wave(number: int, shape: WaveShape) -> list[tuple[str, dict[str, Any]]]:
    """Write wave `number`'s rows (unless a commit whose answer was lost wrote them already);
    returns its requests."""
    name = f"Chaos wave {number}"
    with database.atomic():
        if Call.get_or_none(Call.name == name) is not None:
            return wave_requests(number, shape)
        call: Call = make_call(name=name, send_reminder_before_expiry_days=2)
        make_call_manager(call, email=f"manager{number}@example.org")
        for i in range(shape.reviewers):
            reviewer = make_reviewer(f"w{number}u{i}", email=f"w{number}u{i}@example.org")
            make_pool_entry(call, reviewer, max_assignments=shape.cap)
        for j in range(shape.requests):
            for k in range(shape.reviews_per_request):
                make_review(make_proposal(call), f"w{number}q{j}r{k}")
        expires = utcnow() + shape.expire_after
        for _ in range(shape.batches):
            make_sent_batch(call, expires)
    return wave_requests(number, shape)


@dataclass
class Accepted:
    request_id: int
    key: str
    at: float  # time.time() when the enqueue returned


@dataclass
class Producer:
    """A thread building a wave every `every` seconds and enqueueing its requests."""

    shape: WaveShape
    every: float
    accepted: list[Accepted] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    waves: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> Producer:
        self.thread = threading.Thread(target=self._run, name="chaos-producer", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 180) -> None:
        """Stop building waves; returns once every request built so far is accepted."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def accepted_after(self, instant: float) -> int:
        return sum(1 for a in self.accepted if a.at > instant)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                requests = self._retrying(lambda: build_wave(self.waves, self.shape))
                self.waves += 1
                for key, body in requests:
                    self._accept(key, body)
                self.stopping.wait(max(0.0, self.every - (time.monotonic() - started)))
        finally:
            database.close()

    def _accept(self, key: str, body: dict[str, Any]) -> None:
        request = self._retrying(lambda: enqueue_assign_reviews(body, idempotency_key=key))
        self.accepted.append(Accepted(request.id, key, time.time()))

    def _retrying(self, action: Any) -> Any:
        """`action()` until it succeeds, as a client that retries with backoff would."""
        delay = 0.1
        while True:
            try:
                return action()
            except Exception as exc:  # any refusal is retried, and counted
                self.errors[type(exc).__name__] += 1
                try:
                    database.close()
                except Exception:  # the connection is gone already
                    logger.debug("closing a dead connection failed", exc_info=True)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
