"""`reviewq assign`, `generate` and `manual-assign`: exit status and messages (Redis unreachable
in one line; nothing assigned is a failure; errors name the command's flags)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from cli.app import app
from store.enums import ReviewState
from tests.builders import build_pool_world
from tests.factories import make_call, make_proposal, make_review, make_reviewer, make_user


def test_assign_says_the_queue_is_unreachable_in_one_line(
    runner: Any, unreachable_broker: Any
) -> None:
    result = runner.invoke(
        app, ["assign", "--review", "rev_1", "--strategy", "specific", "--reviewer", "u"]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = [text for text in result.output.splitlines() if text.strip()]
    assert "is unreachable" in line and "Redis" in line


def test_generate_says_the_queue_is_unreachable_in_one_line(
    runner: Any, unreachable_broker: Any
) -> None:
    world = build_pool_world()
    make_user(username="root", is_staff=True)
    result = runner.invoke(app, ["generate", str(world.call.uuid), "--as", "root"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "is unreachable" in result.output


@pytest.fixture
def stub_worker(stub_broker: StubBroker) -> Iterator[Worker]:
    """Workers in this process consuming the stub broker's assignment queue."""
    worker = Worker(stub_broker, worker_timeout=50, worker_threads=1, queues={"assignments"})
    worker.start()
    yield worker
    worker.stop()


def assign(runner: Any, *args: str) -> Any:
    return runner.invoke(app, ["assign", "--timeout", "30", *args])


def test_assign_exits_zero_when_it_assigned_and_one_when_nothing_was(
    runner: Any, stub_worker: Worker
) -> None:
    call = make_call()
    ada = make_reviewer("ada")
    make_review(make_proposal(call), "rev_a")
    make_review(make_proposal(call), "rev_b", reviewer=ada, state=ReviewState.IN_REVIEW)
    flags = ["--strategy", "specific", "--reviewer", "ada", "--no-notify"]
    done = assign(runner, "--review", "rev_a", *flags)
    assert done.exit_code == 0, done.output
    nothing = assign(runner, "--review", "rev_b", *flags)
    assert nothing.exit_code == 1, nothing.output
    assert "nothing was assigned" in nothing.stderr
    assert "already assigned" in nothing.stdout


def test_assign_names_the_flag_at_fault_not_the_api_field(runner: Any, stub_worker: Worker) -> None:
    make_review(make_proposal(make_call()), "rev_a")
    make_reviewer("ada")
    result = assign(
        runner, "--review", "rev_a", "--strategy", "round_robin", "--reviewer", "ada",
        "--max-per-reviewer", "0",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "VALIDATION_ERROR" in result.stderr and "--max-per-reviewer" in result.stderr
    assert "maxPerReviewer" not in result.stderr


def test_manual_assign_over_the_workload_names_the_flag(runner: Any) -> None:
    world = build_pool_world(n_proposals=3, cap=1)
    make_user(username="root", is_staff=True)
    entry = str(world.entries[0].uuid)
    proposals = [arg for p in world.proposals[:2] for arg in ("--proposal", str(p.uuid))]
    args = ["manual-assign", str(world.call.uuid), "--pool-entry", entry, *proposals]
    result = runner.invoke(app, [*args, "--as", "root"])
    assert result.exit_code == 1
    assert "--override-workload-limit" in result.stderr
    assert "override_workload_limit" not in result.stderr
    forced = runner.invoke(app, [*args, "--as", "root", "--override-workload-limit"])
    assert forced.exit_code == 0, forced.output
