"""`reviewq migrate`: bring the schema up to date, creating a missing PostgreSQL database."""

from __future__ import annotations

import psycopg2
import typer
from peewee import OperationalError

from cli.context import console, err_console, open_store
from cli.errors import create_database_hint, describe_database_url, missing_database_name
from config import get_settings
from store.db import create_postgres_database
from store.migrations import migrate as apply_migrations


def migrate_command() -> None:
    """Apply the database schema migrations that are not applied yet (creating the database)."""
    open_store(apply_migrations=False)
    try:
        applied = apply_migrations()
    except OperationalError as exc:
        name = missing_database_name(exc)
        if name is None:
            raise
        url = get_settings().effective_database_url
        try:
            create_postgres_database(url)
        except psycopg2.Error as create_error:
            reason = str(create_error).strip().splitlines()[0]
            hint = create_database_hint(url, as_owner=True)
            err_console.print(
                f"DATABASE_URL: the database of {describe_database_url(url)} does not exist and "
                f"cannot be created here ({reason}): run `{hint}` "
                "as a user who may, then `reviewq migrate` again",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
        console.print(f"created database {name}")
        applied = apply_migrations()
    for name in applied:
        console.print(f"applied: {name}")
    if not applied:
        console.print("schema is up to date")
