"""`reviewq user ...`: create users and give them API tokens (shown once, stored as a hash)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import console, err_console, open_store
from store import User
from tasks.errors import UserError
from tasks.users import create_user, rotate_token

user_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


@user_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="The new user's username.")],
    email: Annotated[str, typer.Option(help="Their e-mail address.")] = "",
    full_name: Annotated[str, typer.Option(help="Their full name.")] = "",
    staff: Annotated[bool, typer.Option("--staff", help="May do everything.")] = False,
    manager_of: Annotated[
        list[str] | None,
        typer.Option("--manager-of", help="A call they manage (external id or uuid); repeatable."),
    ] = None,
) -> None:
    """Create a user and print their new API token as the last line: it is shown only once."""
    open_store()
    try:
        user, token = create_user(
            name, email=email, full_name=full_name, is_staff=staff, manager_of=manager_of or []
        )
    except UserError as exc:
        err_console.print(exc.message, markup=False, highlight=False)
        raise typer.Exit(1) from exc
    role = "staff" if user.is_staff else f"manager of {len(manager_of or [])} call(s)"
    console.print(f"created user {user.username} ({user.uuid}, {role}); API token:", markup=False)
    typer.echo(token)


@user_app.command("rotate-token")
def rotate_token_command(
    name: Annotated[str, typer.Argument(help="The user's username.")],
) -> None:
    """Give a user a new API token (the old one stops working); print it as the last line."""
    open_store()
    user = User.get_or_none(User.username == name)
    if user is None:
        err_console.print(f"no user named {name!r}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"new API token of {user.username}:", markup=False)
    typer.echo(rotate_token(user))
