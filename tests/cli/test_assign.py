"""`reviewq assign` and `reviewq generate` when Redis cannot be reached: one clear line on
stderr, exit status 1, no traceback."""

from __future__ import annotations

from typing import Any

from cli.app import app
from tests.builders import build_pool_world
from tests.factories import make_user


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
