"""Printing results: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from rich.table import Table

from cli.context import err_console


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


def with_flags(text: str, flags: Mapping[str, str] | None) -> str:
    """`text` with each API field name replaced by the command-line flag that sets it."""
    for name, flag in sorted((flags or {}).items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}\b", flag, text)
    return text


def print_error(body: dict[str, Any], flags: Mapping[str, str] | None = None) -> None:
    """An error body of the API on stderr: the seeds/004 envelope `{"error": {code, message,
    ...}}`, `{"error": msg}` or `{"detail": msg}`; the fields it names are given as the flags
    of this command (`flags`: API field -> flag) where the command has them."""
    error = body.get("error", body.get("detail", body))
    if isinstance(error, dict):
        text = f"{error.get('code', 'ERROR')}: {error.get('message', '')}"
        if error.get("invalidIds"):
            text += f" (ids: {', '.join(map(str, error['invalidIds']))})"
        if error.get("fields"):
            text += f" (fields: {', '.join(error['fields'])})"
    else:
        text = str(error)
    err_console.print(with_flags(text, flags), markup=False, highlight=False)
