"""The no-op actor of bench/pipeline_bench.py: dramatiq's own ceiling on this machine.

    python -m dramatiq noop_actor:plain_broker --path bench --processes 2 --threads 8
    python -m dramatiq noop_actor:reviewq_broker --path bench --processes 2 --threads 8

`plain_broker` is dramatiq's RedisBroker with its default middleware; `reviewq_broker` is
reviewq's (workers.broker.build_broker: the identifying consumer and reviewq's middleware).
Both read REDIS_URL. The actor counts its messages in Redis (one INCR) and stamps the first
and the last (the message carries how many there are), so that the rate is measured from the
first ack to the last, on the workers' clock.
"""

from __future__ import annotations

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

QUEUE = "noop"
ACTOR = "noop"
COUNT_KEY = "pipeline_bench:noop:count"
FIRST_KEY = "pipeline_bench:noop:first"
LAST_KEY = "pipeline_bench:noop:last"
PLAIN_NAMESPACE = "dramatiq"  # RedisBroker's default


def _declare(broker: dramatiq.Broker) -> None:
    dramatiq.set_broker(broker)
    client = broker.client  # type: ignore[attr-defined]

    def noop(total: int) -> None:
        done = int(client.incr(COUNT_KEY))
        if done == 1:
            client.set(FIRST_KEY, repr(time.time()))
        if done == total:
            client.set(LAST_KEY, repr(time.time()))

    declare = dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=0)
    declare(noop)


def plain_broker() -> None:
    """dramatiq's RedisBroker at REDIS_URL, with the no-op actor."""
    _declare(RedisBroker(url=os.environ["REDIS_URL"]))  # type: ignore[no-untyped-call]


def reviewq_broker() -> None:
    """reviewq's broker at REDIS_URL, with the no-op actor (and none of reviewq's actors)."""
    from workers.broker import build_broker

    _declare(build_broker(os.environ["REDIS_URL"]))
