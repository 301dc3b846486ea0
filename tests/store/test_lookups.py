"""Finding records by uuid or external id, on SQLite and PostgreSQL: a token that no record can
carry (a NUL in it) is simply not found, without a query PostgreSQL would refuse."""

from __future__ import annotations

from peewee import Database

from store import Call
from store.lookups import resolve_id, resolve_ids
from tests.factories import make_call


def test_a_token_with_a_nul_names_no_record(db: Database) -> None:
    make_call(external_id="call_1")
    assert resolve_id(Call, "call_1\x00") is None
    assert resolve_id(Call, "\x00") is None


def test_a_nul_token_is_missing_beside_the_ones_found(db: Database) -> None:
    call = make_call(external_id="call_1")
    found, missing = resolve_ids(Call, ["call_1", "bad\x00id", str(call.uuid)])
    assert found == {"call_1": call, str(call.uuid): call}
    assert missing == ["bad\x00id"]
