"""What every command needs first: settings, a migrated database, a console."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer
from peewee import Database
from rich.console import Console

from config import get_settings
from store import User
from store.db import connect_database
from store.migrations import migrate
from tasks.errors import BrokerUnavailable

console = Console()
err_console = Console(stderr=True)


def open_store(*, apply_migrations: bool = True) -> Database:
    """Connect to DATABASE_URL and bring its schema up to date."""
    settings = get_settings()
    db = connect_database(settings.effective_database_url)
    if apply_migrations:
        migrate()
    return db


AsUser = Annotated[
    str | None, typer.Option("--as", help="Act as this user (default: the first staff user).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the HTTP API's JSON.")]


def acting_user(username: str | None) -> User:
    """The user named by --as, else the first staff user; exits 2 with a clear error if none."""
    if username is not None:
        user = User.get_or_none(User.username == username)
        if user is None:
            err_console.print(f"--as: no user named {username!r}", markup=False)
            raise typer.Exit(2)
        return user
    staff = User.select().where(User.is_staff == True).order_by(User.id).first()  # noqa: E712
    if staff is None:
        err_console.print(
            "no staff user to act as: create one with `reviewq user create NAME --staff`, "
            "or name a call manager with --as",
            markup=False,
        )
        raise typer.Exit(2)
    return staff


@contextlib.contextmanager
def broker_required() -> Iterator[None]:
    """Turn an unreachable broker into one clear line on stderr and exit status 1."""
    try:
        yield
    except BrokerUnavailable:
        url = get_settings().effective_redis_url
        err_console.print(
            f"the task queue (Redis at {url}) is unreachable; the request is recorded and "
            "queued: start Redis (or set REDIS_URL) and run the command again",
            markup=False,
            soft_wrap=True,  # one line, whatever the terminal's width
        )
        raise typer.Exit(1) from None
