"""When a service a command needs fails: one clear line and exit status 1, never a traceback.

Every command runs inside `reported_failures()` (`reviewq`'s top group is a `ReportingGroup`).
What a person can fix (a database that does not exist, a server that does not answer, a URL
reviewq cannot use) is said in one line naming the setting at fault and what to run; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import redis
import typer
from peewee import InterfaceError, OperationalError
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from config import get_settings
from store.db import UnsupportedDatabaseURL

EXIT_UNAVAILABLE = 1

_console = Console(stderr=True)


def describe_database_url(url: str) -> str:
    """The URL without its password, as a person would recognise it."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return parsed._replace(netloc=netloc).geturl()


def missing_database_name(exc: BaseException) -> str | None:
    """The database a PostgreSQL connection error says does not exist, if that is the error."""
    url = get_settings().effective_database_url
    name = urlparse(url).path.lstrip("/")
    if name and f'database "{name}" does not exist' in str(exc):
        return name
    return None


def create_database_hint(url: str, *, as_owner: bool = False) -> str:
    """The `createdb` command for the database of `url`: as its user, or (`as_owner`) run by a
    user who may create databases, giving it to the URL's user."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    host = parsed.hostname or "localhost"
    flag = "-O" if as_owner else "-U"
    user = f" {flag} {parsed.username}" if parsed.username else ""
    port = f" -p {parsed.port}" if parsed.port else ""
    return f"createdb -h {host}{port}{user} {name}"


def explain(exc: BaseException) -> str | None:
    """One line for a failure the operator can fix, None for a bug."""
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        problems = "; ".join(
            f"{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        return f"configuration: {problems}"
    settings = get_settings()
    if isinstance(exc, UnsupportedDatabaseURL):
        return str(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        url = settings.effective_database_url
        shown = describe_database_url(url)
        if missing_database_name(exc):
            return (
                f"DATABASE_URL: the database of {shown} does not exist: run `reviewq migrate`, "
                f"which creates it, or `{create_database_hint(url)}`"
            )
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"DATABASE_URL: cannot use {shown}: {first_line}"
    if isinstance(exc, redis.RedisError):
        return (
            f"REDIS_URL: Redis at {settings.effective_redis_url} is unreachable ({exc}); "
            "start Redis or set REDIS_URL"
        )
    return None


@contextlib.contextmanager
def reported_failures() -> Iterator[None]:
    """Run a command; turn what `explain` knows into one line on stderr and exit status 1."""
    try:
        yield
    except Exception as exc:
        line = explain(exc)
        if line is None:
            raise
        _console.print(line, markup=False, soft_wrap=True, highlight=False)
        raise typer.Exit(EXIT_UNAVAILABLE) from None


class ReportingGroup(TyperGroup):
    """The top command group: every subcommand runs inside `reported_failures()`."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context, not importable publicly
        with reported_failures():
            return super().invoke(ctx)
