"""`reviewq`: the admin command line. Each command lives in the module named by its concept."""

from __future__ import annotations

import typer

from cli.affinities import affinities_app
from cli.assign import assign_command
from cli.batches import batches_app
from cli.conflicts import conflicts_app
from cli.context import console, open_store
from cli.dead_letters import dead_letters_app
from cli.demo.command import demo_command
from cli.generate import generate_command, manual_assign_command
from cli.load import load_command
from cli.match import match_command
from cli.pool import pool_app
from cli.requests import requests_app
from cli.scheduler import scheduler_app
from cli.stats import stats_command
from cli.users import user_app
from cli.worker import worker_command
from store.migrations import migrate as apply_migrations

app = typer.Typer(
    name="reviewq",
    help="reviewq: assign proposals and reviews to reviewers through a task queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def migrate() -> None:
    """Apply the database schema migrations that are not applied yet."""
    open_store(apply_migrations=False)
    applied = apply_migrations()
    if applied:
        for name in applied:
            console.print(f"applied: {name}")
    else:
        console.print("schema is up to date")


app.command(name="assign")(assign_command)
app.add_typer(requests_app, name="requests")
app.command(name="stats")(stats_command)
app.command(name="worker")(worker_command)
app.command(name="demo")(demo_command)
app.add_typer(dead_letters_app, name="dead-letters")
app.command(name="load")(load_command)
app.add_typer(user_app, name="user")
app.add_typer(batches_app, name="batches")
app.command(name="match")(match_command)
app.add_typer(scheduler_app, name="scheduler")
app.command(name="generate")(generate_command)
app.command(name="manual-assign")(manual_assign_command)
app.add_typer(affinities_app, name="affinities")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(pool_app, name="pool")


def main() -> None:
    app()
