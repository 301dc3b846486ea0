"""`reviewq dead-letters list|requeue|delete`: messages that ran out of retries (or that no
worker could read). `requeue` and `delete` take message ids, and exit 1 when an id matched
nothing."""

from __future__ import annotations

from typing import Annotated

import redis
import typer
from rich.table import Table

from cli.context import console, err_console
from cli.output import print_json
from config import get_settings
from workers.admin import delete_dead_letters, list_dead_letters, requeue_dead_letters
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
    client = _client()
    _require_known(client, message_id or [])
    count = requeue_dead_letters(client, get_broker(), set(message_id) if message_id else None)
    console.print(f"requeued {count} message(s)")


@dead_letters_app.command("delete")
def delete_command(
    message_id: Annotated[list[str], typer.Argument(help="The ids of the messages to delete.")],
) -> None:
    """Delete dead-lettered messages for good."""
    client = _client()
    _require_known(client, message_id)
    console.print(f"deleted {delete_dead_letters(client, set(message_id))} message(s)")


def _require_known(client: redis.Redis, message_ids: list[str]) -> None:
    """Exit 1, changing nothing, when an id names no dead letter."""
    known = {letter.message_id for letter in list_dead_letters(client)}
    unknown = [m for m in message_ids if m not in known]
    if unknown:
        err_console.print(f"no dead letter with id {', '.join(unknown)}", markup=False)
        raise typer.Exit(1)
