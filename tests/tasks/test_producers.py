"""Producers when Redis cannot be reached: the request is recorded, the caller is told to come
back (BrokerUnavailable), and coming back with the same idempotency key sends that request."""

from __future__ import annotations

from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest
from store.enums import RequestStatus
from tasks.errors import BrokerUnavailable
from tasks.producers import enqueue_assign_reviews
from workers.broker import set_broker
from workers.redis_keys import ASSIGNMENT_QUEUE

BODY = {
    "reviewIds": ["rev_1"],
    "assignmentStrategy": {"type": "specific", "assignTo": ["user_001"]},
}


def test_an_unreachable_broker_is_broker_unavailable_and_the_request_stays_queued(
    db: Database, unreachable_broker: Any
) -> None:
    with pytest.raises(BrokerUnavailable) as caught:
        enqueue_assign_reviews(BODY, idempotency_key="key-1")
    assert caught.value.http_status == 503
    assert caught.value.body()["error"]["code"] == "BROKER_UNAVAILABLE"
    [request] = AssignmentRequest.select()
    assert request.status == RequestStatus.QUEUED


def test_a_retry_with_the_same_key_sends_the_recorded_request_once_the_broker_is_back(
    db: Database, unreachable_broker: Any, stub_broker: Any
) -> None:
    set_broker(unreachable_broker)
    with pytest.raises(BrokerUnavailable):
        enqueue_assign_reviews(BODY, idempotency_key="key-1")
    set_broker(stub_broker)
    again = enqueue_assign_reviews(BODY, idempotency_key="key-1")
    assert AssignmentRequest.select().count() == 1
    [message] = list(stub_broker.queues[ASSIGNMENT_QUEUE].queue)
    assert str(again.uuid) in message.decode()
