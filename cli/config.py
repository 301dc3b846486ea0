"""`reviewq config`: the settings in effect, where each came from, secrets masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from dotenv import dotenv_values
from pydantic import AliasChoices
from rich.table import Table

from cli.context import console
from cli.errors import describe_database_url
from cli.output import print_json
from config import Settings, get_settings

MASK = "***"
SECRET_WORDS = ("secret", "password", "token")


def env_names(name: str, alias: object) -> list[str]:
    """The environment variables that set a field, as pydantic-settings reads them."""
    if isinstance(alias, AliasChoices):
        names = [choice for choice in alias.choices if isinstance(choice, str)]
    elif isinstance(alias, str):
        names = [alias]
    else:
        names = [name]
    return [n.upper() for n in names]


def shown_value(name: str, value: Any) -> str:
    if value is None:
        return "(unset)"
    if any(word in name for word in SECRET_WORDS):
        return MASK
    text = str(value)
    return describe_database_url(text) if "://" in text else text


def settings_in_effect(settings: Settings, env_file: Path = Path(".env")) -> list[dict[str, str]]:
    """One row per setting: its variable, the value in effect (masked) and its source."""
    from_file = dotenv_values(env_file) if env_file.exists() else {}
    in_file = {k.upper() for k in from_file}
    environ = {k.upper() for k in os.environ}
    rows = []
    for name, field in Settings.model_fields.items():
        names = env_names(name, field.validation_alias)
        source = "default"
        for variable in names:
            if variable in environ:
                source = f"environment ({variable})"
                break
            if variable in in_file:
                source = f"{env_file} ({variable})"
                break
        rows.append(
            {
                "variable": names[0],
                "value": shown_value(name, getattr(settings, name)),
                "source": source,
            }
        )
    rows += [
        {
            "variable": "(database in use)",
            "value": describe_database_url(settings.effective_database_url),
            "source": "DATABASE_URL or the data directory",
        },
        {
            "variable": "(Redis in use)",
            "value": describe_database_url(settings.effective_redis_url),
            "source": "REDIS_URL or its default",
        },
    ]
    return rows


def config_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the settings in effect, secrets masked, and where each came from."""
    rows = settings_in_effect(get_settings())
    if as_json:
        print_json(rows)
        return
    table = Table(title="Settings")
    table.add_column("variable", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", overflow="fold")
    for row in rows:
        table.add_row(row["variable"], row["value"], row["source"])
    console.print(table)
