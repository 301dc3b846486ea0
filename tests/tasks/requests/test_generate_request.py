"""generate-assignments as a queued request: process_request, the actor, the producer."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from peewee import Database
from typer.testing import CliRunner

from cli.app import app
from config import get_settings
from store import AssignmentItem, AssignmentRequest
from store.enums import RequestKind, RequestStatus
from store.workload import workloads
from tasks import actors
from tasks.messages import message_for
from tasks.producers import enqueue_generate
from tasks.requests.handlers import run_generate_request
from tasks.requests.lifecycle import process_request, submit_request, wait_for_request
from tests.builders import REDIS_URL, PoolWorld, build_pool_world
from tests.factories import make_call, make_user
from workers.supervisor import start_dramatiq


@pytest.fixture
def world(db: Database) -> PoolWorld:
    return build_pool_world()


def body_for(world: PoolWorld, **fields: Any) -> dict[str, Any]:
    return {"call": str(world.call.uuid), "acting_user": str(world.staff.uuid), **fields}


def run(body: Any, key: str | None = None) -> AssignmentRequest:
    request, _ = submit_request(RequestKind.GENERATE_ASSIGNMENTS, body, idempotency_key=key)
    process_request(RequestKind.GENERATE_ASSIGNMENTS, message_for(request), run_generate_request)
    return AssignmentRequest.get_by_id(request.id)


def test_a_queued_generate_records_the_http_answer_as_its_result(world: PoolWorld) -> None:
    request = run(body_for(world, algorithm="greedy", reviewers_per_proposal=1))
    assert request.status == RequestStatus.SUCCEEDED
    assert request.http_status == 200
    assert request.result == {
        "batches_created": 3,
        "items_created": 3,
        "proposals_processed": 3,
        "skipped_proposals": [],
    }


def test_the_same_message_twice_has_one_effect(world: PoolWorld) -> None:
    request, _ = submit_request(RequestKind.GENERATE_ASSIGNMENTS, body_for(world))
    message = message_for(request)
    process_request(RequestKind.GENERATE_ASSIGNMENTS, message, run_generate_request)
    again = process_request(RequestKind.GENERATE_ASSIGNMENTS, message, run_generate_request)
    assert again is None
    assert AssignmentItem.select().count() == 6
    assert AssignmentRequest.get_by_id(request.id).result["items_created"] == 6


def test_an_idempotency_key_finds_the_first_request(world: PoolWorld) -> None:
    first = run(body_for(world), key="gen-1")
    message = {"request": body_for(world), "idempotency_key": "gen-1"}
    assert process_request(RequestKind.GENERATE_ASSIGNMENTS, message, run_generate_request) is None
    assert AssignmentRequest.select().count() == 1
    assert first.result["items_created"] == 6


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"algorithm": "magic"}, ["algorithm"]),
        ({"reviewers_per_proposal": 0}, ["reviewers_per_proposal"]),
        ({"reviewers_per_proposal": "2"}, ["reviewers_per_proposal"]),
        ({"colour": "red"}, ["colour"]),
        ({"proposal_uuids": "not-a-list"}, ["proposal_uuids"]),
        ({"acting_user": "nobody"}, ["acting_user"]),
    ],
)
def test_bad_input_fails_the_request_with_a_validation_error_naming_the_field(
    world: PoolWorld, fields: dict[str, Any], bad: list[str]
) -> None:
    request = run(body_for(world, **fields))
    assert request.status == RequestStatus.FAILED
    assert request.http_status == 400
    assert request.result["error"]["code"] == "VALIDATION_ERROR"
    assert request.result["error"]["fields"] == bad
    assert AssignmentItem.select().count() == 0


def test_a_body_without_call_or_acting_user_names_both(world: PoolWorld) -> None:
    request = run({})
    assert request.result["error"]["fields"] == ["acting_user", "call"]


def test_a_user_who_does_not_manage_the_call_gets_not_found(world: PoolWorld) -> None:
    outsider = make_user()
    request = run(body_for(world, acting_user=str(outsider.uuid)))
    assert request.status == RequestStatus.FAILED
    assert request.http_status == 404
    assert AssignmentItem.select().count() == 0


def test_the_actor_runs_a_request_queued_by_the_producer(
    world: PoolWorld, stub_broker: StubBroker
) -> None:
    worker = Worker(stub_broker, worker_timeout=50, worker_threads=1, queues={"assignments"})
    worker.start()
    try:
        request = enqueue_generate(
            str(world.call.uuid), acting_user=str(world.staff.uuid), algorithm="fair"
        )
        stub_broker.join("assignments", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    request = AssignmentRequest.get_by_id(request.id)
    assert request.kind == RequestKind.GENERATE_ASSIGNMENTS
    assert request.payload == {
        "call": str(world.call.uuid),
        "acting_user": str(world.staff.uuid),
        "algorithm": "fair",
    }
    assert request.status == RequestStatus.SUCCEEDED
    assert request.result["items_created"] == 6


def test_the_actor_is_declared_on_the_assignments_queue() -> None:
    assert actors.generate_assignments.actor_name == "generate_assignments"
    assert actors.generate_assignments.queue_name == "assignments"


@pytest.fixture
def runner(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on the test database; the actor runs in-process when sent."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(actors.generate_assignments, "send", actors.generate_assignments.fn)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_reviewq_generate_queues_waits_and_prints_the_answer_as_json(
    world: PoolWorld, runner: CliRunner
) -> None:
    result = runner.invoke(
        app, ["generate", str(world.call.uuid), "--reviewers-per-proposal", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "batches_created": 3,
        "items_created": 3,
        "proposals_processed": 3,
        "skipped_proposals": [],
    }
    request = AssignmentRequest.get()
    assert request.requested_by_id == world.staff.id


def test_reviewq_generate_prints_counts_and_fails_on_a_bad_algorithm(
    world: PoolWorld, runner: CliRunner
) -> None:
    ok = runner.invoke(app, ["generate", str(world.call.uuid)])
    assert ok.exit_code == 0, ok.output
    assert "6 item(s) in 3 new draft batch(es)" in ok.stdout
    bad = runner.invoke(app, ["generate", str(world.call.uuid), "--algorithm", "magic"])
    assert bad.exit_code == 1
    assert "VALIDATION_ERROR" in bad.output and "algorithm" in bad.output


def test_reviewq_generate_acts_as_the_named_user_or_says_there_is_no_staff(
    db: Database, runner: CliRunner
) -> None:
    call = make_call()
    none = runner.invoke(app, ["generate", str(call.uuid)])
    assert none.exit_code == 2
    assert "no staff user" in none.output
    stranger = make_user(username="stranger")
    denied = runner.invoke(app, ["generate", str(call.uuid), "--as", stranger.username])
    assert denied.exit_code == 1
    assert AssignmentRequest.get().http_status == 404


def test_reviewq_generate_no_wait_prints_the_request_id(
    world: PoolWorld, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["generate", str(world.call.uuid), "--no-wait", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == str(AssignmentRequest.get().uuid)


@pytest.mark.e2e
def test_real_workers_run_concurrent_generates_for_one_call_once_each(
    db: Database, db_url: str, redis_client: Any, tmp_path: Path
) -> None:
    w = build_pool_world(n_proposals=10, n_reviewers=6, k=3, cap=5)
    env = {"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / "workers.log").open("wb") as log:
        proc = start_dramatiq(2, 4, env, start_new_session=True, stdout=log, stderr=log)
    try:
        requests = [
            enqueue_generate(str(w.call.uuid), acting_user=str(w.staff.uuid), algorithm=a)
            for a in ("optimal", "greedy", "fair")
        ]
        done = [wait_for_request(r.uuid, timeout=90) for r in requests]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert {r.status for r in done} == {RequestStatus.SUCCEEDED}
    assert sorted(r.result["items_created"] for r in done) == [0, 0, 30]
    per_proposal = Counter(i.proposal_id for i in AssignmentItem.select())
    assert set(per_proposal.values()) == {3}
    assert max(workloads([r.id for r in w.reviewers], call_id=w.call.id).values()) <= 5
