"""The worker node's /metrics: `reviewq worker`'s processes counted together, served by the
supervisor on REVIEWQ_WORKER_METRICS_PORT (prometheus-client multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from prometheus_client.parser import text_string_to_metric_families

from config import get_settings
from store import Notification
from store.enums import NotificationStatus
from tasks.producers import enqueue_assign_reviews
from tasks.requests.lifecycle import wait_for_request
from tests.builders import REDIS_URL, free_port, stop_process_group
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.delivery import deliver_notification

ROOT = Path(__file__).resolve().parents[2]
REVIEWQ = Path(sys.executable).parent / "reviewq"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def worker_node(db_url: str, db: Database, redis_client: Any, tmp_path: Path) -> Iterator[int]:
    """`reviewq worker` (2 processes) over the test database; yields its metrics port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
        "REVIEWQ_WORKER_PROCESSES": "2",
        "REVIEWQ_WORKER_THREADS": "2",
        "REVIEWQ_WORKER_METRICS_PORT": str(port),
    }
    log = (tmp_path / "worker.log").open("wb")
    node = subprocess.Popen(
        [str(REVIEWQ), "worker"], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            scrape(port)
            break
        except OSError:
            assert node.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "no /metrics on the worker node"
            time.sleep(0.3)
    get_settings.cache_clear()
    yield port
    stop_process_group(node)
    log.close()


@pytest.mark.e2e
def test_the_worker_node_serves_its_processes_counts(worker_node: int) -> None:
    call = make_call()
    reviewer = make_reviewer("ada")
    reviews = [make_review(make_proposal(call), f"rev_{n}") for n in range(3)]
    for review in reviews:
        body = {
            "reviewIds": [review.external_id],
            "assignmentStrategy": {"type": "specific", "assignTo": [reviewer.external_id]},
            "notifyReviewers": True,
        }
        request = enqueue_assign_reviews(body)
        assert wait_for_request(request.uuid, timeout=60).status.value == "succeeded"
    unknown = enqueue_assign_reviews(
        {"reviewIds": ["nope"], "assignmentStrategy": {"type": "specific", "assignTo": ["ada"]}}
    )
    wait_for_request(unknown.uuid, timeout=60)
    deadline = time.monotonic() + 60
    while Notification.select().where(Notification.status == NotificationStatus.SENT).count() < 3:
        assert time.monotonic() < deadline, "the invitations were not delivered"
        time.sleep(0.3)
    deliver_notification.send(Notification.select().first().id)  # once more: not claimed
    time.sleep(2)
    found = scrape(worker_node)
    assign = (("actor", "assign_reviews"), ("outcome", "succeeded"))
    assert found[("reviewq_messages_total", assign)] == 4  # a refused request is handled once
    assert found[("reviewq_message_duration_seconds_count", (("actor", "assign_reviews"),))] == 4
    assert found[("reviewq_mail_deliveries_total", (("outcome", "sent"),))] == 3
    assert found[("reviewq_mail_deliveries_total", (("outcome", "not_claimed"),))] == 1
    assert found[("reviewq_messages_in_progress", (("actor", "assign_reviews"),))] == 0
