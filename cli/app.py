"""`reviewq`: the admin command line. Each command lives in the module named by its concept."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from cli.affinities import affinities_app
from cli.assign import assign_command
from cli.batches import batches_app
from cli.calls import calls_app
from cli.config import config_command
from cli.conflicts import conflicts_app
from cli.context import console
from cli.dead_letters import dead_letters_app
from cli.demo.command import demo_command
from cli.errors import ReportingGroup
from cli.generate import generate_command, manual_assign_command
from cli.items import items_app
from cli.load import load_command
from cli.match import match_command
from cli.migrate import migrate_command
from cli.pool import pool_app
from cli.requests import requests_app
from cli.reviewers import reviewers_list_command
from cli.scheduler import scheduler_app
from cli.stats import stats_command
from cli.users import user_app
from cli.worker import worker_command

app = typer.Typer(
    name="reviewq",
    help="reviewq: assign proposals and reviews to reviewers through a task queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=ReportingGroup,
)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"reviewq {version('reviewq')}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """reviewq: assign proposals and reviews to reviewers through a task queue."""


app.command(name="migrate")(migrate_command)
app.command(name="config")(config_command)
app.command(name="assign")(assign_command)
app.add_typer(requests_app, name="requests")
app.command(name="stats")(stats_command)
app.command(name="worker")(worker_command)
app.command(name="demo")(demo_command)
app.add_typer(dead_letters_app, name="dead-letters")
app.command(name="load")(load_command)
app.add_typer(user_app, name="user")
app.add_typer(user_app, name="users")
reviewers_app = typer.Typer(help="Reviewers, their workloads and pools.", no_args_is_help=True)
reviewers_app.command(name="list")(reviewers_list_command)
app.add_typer(reviewers_app, name="reviewers")
app.add_typer(batches_app, name="batches")
app.add_typer(items_app, name="items")
app.command(name="match")(match_command)
app.add_typer(scheduler_app, name="scheduler")
app.command(name="generate")(generate_command)
app.command(name="manual-assign")(manual_assign_command)
app.add_typer(affinities_app, name="affinities")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(pool_app, name="pool")
app.add_typer(calls_app, name="calls")


def main() -> None:
    app()
