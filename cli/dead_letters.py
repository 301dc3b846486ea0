"""`reviewq dead-letters list|requeue`: messages that ran out of retries."""

from __future__ import annotations

from typing import Annotated

import redis
import typer
from rich.table import Table

from cli.context import console
from cli.output import print_json
from config import get_settings
from workers.admin import list_dead_letters, requeue_dead_letters
from workers.broker import get_broker

dead_letters_app = typer.Typer(help="Messages whose retries ran out.", no_args_is_help=True)


def _client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().effective_redis_url, socket_timeout=5)


@dead_letters_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List every dead-lettered message."""
    letters = list_dead_letters(_client())
    if as_json:
        print_json([{**vars(x), "dead_since": x.dead_since.isoformat()} for x in letters])
        return
    table = Table(title=f"Dead letters ({len(letters)})")
    for column in ("queue", "message id", "actor", "dead since", "retries", "reason"):
        table.add_column(column)
    for x in letters:
        table.add_row(
            x.queue,
            x.message_id,
            x.actor,
            x.dead_since.isoformat(timespec="seconds"),
            str(x.retries),
            x.reason,
        )
    console.print(table)


@dead_letters_app.command("requeue")
def requeue_command(
    message_id: Annotated[
        list[str] | None, typer.Argument(help="Ids to requeue (default: all).")
    ] = None,
) -> None:
    """Send dead-lettered messages to their queues again, with fresh retries."""
    broker = get_broker()
    count = requeue_dead_letters(_client(), broker, set(message_id) if message_id else None)
    console.print(f"requeued {count} message(s)")
