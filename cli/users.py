"""`reviewq user ...` (also `reviewq users ...`): list users, create them and give them API
tokens (shown once, stored as a hash)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.context import console, err_console, open_store
from cli.output import print_json
from store import Call, CallManager, User
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


@user_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the users: staff, the calls each manages, whether they have a token."""
    open_store()
    managed: dict[int, list[str]] = {}
    pairs = CallManager.select(CallManager.user, Call.external_id, Call.uuid).join(Call).tuples()
    for user_id, external_id, call_uuid in pairs:
        managed.setdefault(user_id, []).append(external_id or str(call_uuid))
    rows = [
        {
            "uuid": str(user.uuid),
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "is_staff": user.is_staff,
            "manages": sorted(managed.get(user.id, [])),
            "has_token": user.token_hash is not None,
        }
        for user in User.select().order_by(User.username)
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} user(s)")
    table.add_column("uuid", no_wrap=True)
    for column in ("username", "name", "e-mail", "role", "token"):
        table.add_column(column)
    for row in rows:
        role = "staff" if row["is_staff"] else ", ".join(row["manages"]) or "-"
        table.add_row(
            row["uuid"],
            Text(row["username"]),
            Text(row["full_name"]),
            Text(row["email"]),
            Text(role),
            "yes" if row["has_token"] else "no",
        )
    console.print(table)
