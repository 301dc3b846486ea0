"""`reviewq batches ...` through the real command line (typer's runner), as a staff user."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from typer.testing import CliRunner

from api.serializers.batches import batch_detail_out
from api.serializers.links import Links
from cli.app import app
from store import AssignmentBatch, Notification, User
from store.clock import utcnow
from store.enums import BatchStatus
from tasks.batches.listing import get_batch
from tasks.errors import (
    MSG_CANCELLED,
    MSG_EXTEND_NOT_ALLOWED,
    MSG_SEND_NOT_DRAFT,
    SKIP_NO_PENDING_ITEMS,
)
from tests.builders import (
    BatchWorld,
    build_batch_world,
)
from tests.factories import make_assignment_batch
from workers.redis_keys import MAIL_QUEUE


@pytest.fixture
def world(runner: CliRunner) -> BatchWorld:
    return build_batch_world()


def batches(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["batches", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_prints_a_table_and_json_the_api_rows(runner: CliRunner, world: BatchWorld) -> None:
    code, out, _ = batches(runner, "list")
    assert code == 0
    assert "Quantum Computing 2026" in out and "Rita Reviewer" in out and "2/3" in out
    code, out, _ = batches(
        runner, "list", "--json", "--status", "draft", "--call", str(world.call.uuid)
    )
    rows = json.loads(out)
    assert code == 0 and [r["uuid"] for r in rows] == [str(world.batch.uuid)]
    assert rows[0]["items_pending_count"] == 2 and "items" not in rows[0]
    code, out, _ = batches(runner, "list", "--json", "--status", "sent")
    assert json.loads(out) == []


def test_show_json_is_the_retrieve_body_with_items(runner: CliRunner, world: BatchWorld) -> None:
    code, out, _ = batches(runner, "show", str(world.batch.uuid), "--json")
    assert code == 0
    body = json.loads(out)
    expected = batch_detail_out(
        get_batch(world.staff, str(world.batch.uuid)), Links.public()
    ).model_dump(mode="json")
    assert {k: v for k, v in body.items() if k != "is_expired"} == {
        k: v for k, v in expected.items() if k != "is_expired"
    }
    assert [i["proposal_name"] for i in body["items"]] == ["Qubits", "Gates", "Blocked one"]
    code, out, _ = batches(runner, "show", str(world.batch.uuid))
    assert code == 0 and "Blocked one" in out and "Blocked due to COI" in out and "Thanks!" in out


def test_send_sends_the_batch_and_hands_the_invitation_to_the_workers(
    runner: CliRunner,
    world: BatchWorld,
    stub_broker: StubBroker,
) -> None:
    code, out, _ = batches(runner, "send", str(world.batch.uuid), "--json")
    assert code == 0
    assert json.loads(out)["detail"] == "Assignment batch invitation sent successfully."
    assert world.fresh().status == BatchStatus.SENT
    assert Notification.select().count() == 1
    assert stub_broker.queues[MAIL_QUEUE].qsize() == 1
    code, _, err = batches(runner, "send", str(world.batch.uuid))
    assert (code, err.strip()) == (1, MSG_SEND_NOT_DRAFT)


def test_send_all_reports_what_it_sent(
    runner: CliRunner,
    world: BatchWorld,
    stub_broker: StubBroker,
) -> None:
    empty = make_assignment_batch(world.call)
    code, out, _ = batches(runner, "send-all", world.call.public_id, "--json")
    assert (code, json.loads(out)) == (0, {"batches_sent": 1, "skipped": 1})
    code, out, _ = batches(runner, "send-all", str(world.call.uuid))
    assert code == 0 and "0 batch(es) sent." in out
    assert f"skipped {empty.uuid}: {SKIP_NO_PENDING_ITEMS}" in out


def test_cancel_and_then_extend_print_the_domain_messages(
    runner: CliRunner, world: BatchWorld
) -> None:
    code, out, _ = batches(runner, "cancel", str(world.batch.uuid))
    assert (code, out.strip()) == (0, MSG_CANCELLED)
    future = (utcnow() + timedelta(days=3)).isoformat() + "Z"
    code, _, err = batches(runner, "extend", str(world.batch.uuid), "--expires-at", future)
    assert (code, err.strip()) == (1, MSG_EXTEND_NOT_ALLOWED)


def test_extend_moves_the_deadline_and_rejects_a_past_one(
    runner: CliRunner, world: BatchWorld
) -> None:
    AssignmentBatch.update(status=BatchStatus.SENT, expires_at=utcnow()).execute()
    future = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    code, out, _ = batches(
        runner, "extend", str(world.batch.uuid), "--expires-at", future.isoformat(), "--json"
    )
    assert (code, json.loads(out)) == (
        0,
        {"expires_at": future.isoformat() + "Z", "status": "sent"},
    )
    past = (utcnow() - timedelta(days=1)).isoformat()
    code, _, err = batches(runner, "extend", str(world.batch.uuid), "--expires-at", past)
    assert (code, err.strip()) == (1, "expires_at: New deadline must be in the future.")
    code, _, err = batches(runner, "extend", str(world.batch.uuid), "--expires-at", "soon")
    assert code == 1 and "not an ISO 8601" in err


def test_acting_as_the_reviewer_hides_the_draft_and_forbids_manager_actions(
    runner: CliRunner, world: BatchWorld
) -> None:
    code, _, err = batches(runner, "show", str(world.batch.uuid), "--as", "rita")
    assert (code, err.strip()) == (1, "No assignment batch found.")
    AssignmentBatch.update(status=BatchStatus.SENT).execute()
    code, _, err = batches(runner, "cancel", str(world.batch.uuid), "--as", "rita")
    assert code == 1 and "permission" in err
    assert world.fresh().status == BatchStatus.SENT
    code, _, err = batches(runner, "list", "--as", "nobody")
    assert (code, err.strip()) == (2, "--as: no user named 'nobody'")  # a usage error


def test_without_a_staff_user_the_commands_say_how_to_create_one(
    runner: CliRunner, world: BatchWorld
) -> None:
    User.update(is_staff=False).execute()
    code, _, err = batches(runner, "list")
    assert code == 2
    assert "reviewq user create NAME --staff" in err
