"""`reviewq load FILE`: load a data file (JSON, or a directory of CSV files), all or nothing."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.context import console, err_console, open_store
from cli.output import print_json
from tasks.errors import DataFileError
from tasks.imports.data_file import read_data_file
from tasks.imports.load import LoadReport, load_data


def load_command(
    path: Annotated[
        Path,
        typer.Argument(exists=True, help="A JSON data file, or a directory of <array>.csv files."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Load users, reviewers, calls, proposals, pool, conflicts, affinities and reviews.

    Loading the same file twice changes nothing. A file with any bad record loads nothing:
    every error is printed as `array[index].field: message` and the command exits 1.
    """
    open_store()
    try:
        document = read_data_file(path)
        with console.status("loading ...") as status:
            report = load_data(document, on_stage=lambda stage: status.update(f"{stage} ..."))
    except DataFileError as exc:
        for error in exc.errors:
            err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
        err_console.print(f"{len(exc.errors)} error(s): nothing was loaded", style="red")
        raise typer.Exit(1) from exc
    if as_json:
        print_json({array: asdict(counts) for array, counts in report.counts.items()})
    else:
        console.print(report_table(report, path))


def report_table(report: LoadReport, path: Path) -> Table:
    table = Table(title=f"Loaded {path} in {report.seconds:.2f} s")
    table.add_column("array")
    for column in ("created", "updated", "unchanged"):
        table.add_column(column, justify="right")
    for array, counts in report.counts.items():
        table.add_row(array, str(counts.created), str(counts.updated), str(counts.unchanged))
    return table
