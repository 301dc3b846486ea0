"""What every command needs first: settings, a migrated database, a console."""

from __future__ import annotations

from peewee import Database
from rich.console import Console

from config import get_settings
from store.db import connect_database
from store.migrations import migrate

console = Console()
err_console = Console(stderr=True)


def open_store(*, apply_migrations: bool = True) -> Database:
    """Connect to DATABASE_URL and bring its schema up to date."""
    settings = get_settings()
    db = connect_database(settings.effective_database_url)
    if apply_migrations:
        migrate()
    return db
