"""`reviewq affinities compute CALL`: score a call's proposals against its pool and store them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.context import console, err_console, open_store
from cli.output import print_json
from tasks.errors import ReviewqError
from tasks.imports.affinities import AffinityReport, compute_call_affinities

affinities_app = typer.Typer(
    help="Affinities computed from expertise and text.", no_args_is_help=True
)


@affinities_app.command("compute")
def compute_command(
    call: Annotated[str, typer.Argument(help="The call (uuid or external id).")],
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Keep pairs scoring at least this much.")
    ] = 0.0,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Keep each proposal's best N reviewers.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compute the call's affinities from expertise and text and store them as `computed` rows.

    Imported affinities are kept as they are; a second run with the same texts changes nothing.
    """
    open_store()
    try:
        with console.status("computing affinities ...") as status:
            report = compute_call_affinities(
                call,
                threshold=threshold,
                top_per_proposal=top,
                on_progress=lambda stage: status.update(f"{stage} ..."),
            )
    except ReviewqError as exc:
        err_console.print(exc.message, markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(report_table(report))
        console.print(
            f"{report.pairs_computed:,} pairs scored in {report.seconds:.2f} s "
            f"(call {report.call_uuid})",
            highlight=False,
        )


def report_table(report: AffinityReport) -> Table:
    table = Table(
        title=f"Affinities: {report.proposals:,} proposals x {report.reviewers:,} reviewers"
    )
    table.add_column("rows")
    table.add_column("count", justify="right")
    for name in ("inserted", "updated", "unchanged", "deleted", "imported_kept"):
        table.add_row(name.replace("_", " "), f"{getattr(report, name):,}")
    return table
