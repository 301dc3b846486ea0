"""Printing results: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from rich.table import Table

from cli.context import console


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colour codes), for `--json`."""
    print(json.dumps(value, indent=2, sort_keys=False))


def wire(models: BaseModel | Sequence[BaseModel]) -> Any:
    """The JSON of the API's wire models (api/serializers/), as plain values."""
    if isinstance(models, BaseModel):
        return models.model_dump(mode="json")
    return [model.model_dump(mode="json") for model in models]


def assign_result_tables(body: dict[str, Any]) -> list[Table]:
    """The seeds/004 response body as an assignments table and a per-reviewer summary."""
    assignments = Table(title=f"Assignments: {body['assigned']} assigned, {body['failed']} failed")
    for column in ("review", "assigned to", "status", "error"):
        assignments.add_column(column)
    for row in body["assignments"]:
        style = "green" if row["status"] == "success" else "red"
        assignments.add_row(
            row["reviewId"],
            row.get("assignedTo") or "-",
            f"[{style}]{row['status']}[/]",
            row.get("error") or "",
        )
    summary = Table(title="Summary by reviewer")
    for column in ("reviewer", "assigned now", "total workload"):
        summary.add_column(column, justify="right" if column != "reviewer" else "left")
    for row in body["summary"]:
        summary.add_row(row["userId"], str(row["assignedCount"]), str(row["totalWorkload"]))
    return [assignments, summary]


def print_error_body(body: dict[str, Any]) -> None:
    error = body.get("error", {})
    console.print(f"[red]{error.get('code', 'ERROR')}[/]: {error.get('message', '')}")
    for key in ("invalidIds", "fields"):
        if error.get(key):
            console.print(f"  {key}: {', '.join(map(str, error[key]))}")
