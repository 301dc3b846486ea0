"""Ids as a person types them: a full uuid, an external id, or any unique start of a uuid.

Tables print full uuids; a command also takes the first characters of one (as git takes a
commit's), so an id copied from a narrow terminal still names its record.
"""

from __future__ import annotations

import typer

from cli.context import err_console
from store.base import BaseModel, ExternalModel
from store.lookups import as_uuid, resolve_id, uuids_starting_with

MIN_PREFIX = 4


def full_id(model: type[BaseModel], token: str, *, what: str) -> str:
    """`token` as the use cases take it: unchanged when it is a uuid or names a record by its
    external id, else the one uuid of `model` it begins. An ambiguous start exits 2 naming it;
    a start nothing begins is returned unchanged, for the use case to say "not found"."""
    if as_uuid(token) is not None:
        return token
    if issubclass(model, ExternalModel) and resolve_id(model, token) is not None:
        return token
    if len(token.replace("-", "")) < MIN_PREFIX:
        return token
    matches = uuids_starting_with(model, token)
    if len(matches) > 1:
        err_console.print(
            f"{what} {token!r} is ambiguous: more than one {what} id starts with it; give more "
            "of the id",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2)
    return str(matches[0]) if matches else token
