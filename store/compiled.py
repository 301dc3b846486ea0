"""Hot queries compiled once per database: peewee builds the SQL text the first time, later
runs only bind new values to it.

Building a query is most of the CPU a small statement costs in peewee (each `.sql()` walks the
whole expression tree), and the hot path of a queued request runs a dozen of them. A query
whose only varying parts are `Slot`s has one text whatever the values, so it is built once:

    LOCK_REVIEWS = CompiledQuery(lambda: Review.select(...).where(among(Review.id, "ids")))
    rows = LOCK_REVIEWS.tuples(ids=[3, 1, 2])

`among(field, name)` is the list membership of a slot with one text for any length: one array
parameter on PostgreSQL (`field = ANY(CAST(%s AS type[]))`), one JSON parameter on SQLite
(`field IN (SELECT value FROM json_each(?))`, which also avoids SQLite's cap on bound
parameters). `slot(name)` is a single value. The text is kept per database object, so the
tests' switch between SQLite and PostgreSQL rebuilds it.

On PostgreSQL each text is also a prepared statement of each connection that runs it
(`PREPARE` on its first run there, `EXECUTE` after): the server parses and plans it once per
connection rather than at every run, which was more than half of the server's CPU on the hot
path (planning the lock and workload queries took longer than running them). A list is sent
to `EXECUTE` as an array literal of no declared type, so the statement's own cast decides it.
"""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from peewee import SQL, Cast, Expression, Field, Model, Select, Value, fn

from store.db import database, is_sqlite

_Converter = Callable[[Any], Any]
_M = TypeVar("_M", bound=Model)

#: PostgreSQL's array type of a field's values, by peewee field type.
_ARRAY_TYPES = {
    "AUTO": "integer[]",
    "INT": "integer[]",
    "BIGAUTO": "bigint[]",
    "BIGINT": "bigint[]",
    "UUID": "uuid[]",
    "VARCHAR": "text[]",
    "TEXT": "text[]",
}


@dataclass(frozen=True)
class Slot:
    """A named parameter of a compiled query; `listed` when it holds a list of `field` values."""

    name: str
    field: Field | None = None
    listed: bool = False

    def encode(self, value: Any) -> Any:
        if self.field is None:
            return value
        if not self.listed:
            return self.field.db_value(value)
        values = [self.field.db_value(v) for v in value]
        return json.dumps(values) if is_sqlite() else values


def among(field: Field, name: str) -> Expression:
    """`field` is one of the values of the list slot `name` (one text for any length)."""
    holder = Slot(name, field, listed=True)
    if is_sqlite():
        return field.in_(SQL("(SELECT value FROM json_each(?))", [holder]))
    array_type = _ARRAY_TYPES[field.field_type]
    return Expression(field, "=", fn.ANY(Cast(Value(holder, converter=False), array_type)))


@dataclass(frozen=True)
class _ColumnSlot(Slot):
    """One column (`index`) of the rows of a table slot; on SQLite, all of them as JSON."""

    index: int = 0

    def encode(self, value: Any) -> Any:
        if is_sqlite():
            return json.dumps([list(row) for row in value])
        return [row[self.index] for row in value]


def rows_of(name: str, columns: dict[str, str]) -> Any:
    """A table, aliased `name`, of the rows of the slot `name` (a list of tuples with these
    columns, name -> PostgreSQL type): one text for any number of rows, e.g. to UPDATE ...
    FROM it (unnest on PostgreSQL, json_each on SQLite)."""
    if is_sqlite():
        picked = [
            fn.json_extract(SQL("value"), f"$[{i}]").alias(column)
            for i, column in enumerate(columns)
        ]
        source = SQL("json_each(?)", [_ColumnSlot(name)])
        return Select(from_list=[source], columns=picked).alias(name)
    picked = [
        fn.unnest(Cast(Value(_ColumnSlot(name, index=i), converter=False), f"{kind}[]")).alias(
            column
        )
        for i, (column, kind) in enumerate(columns.items())
    ]
    return Select(columns=picked).alias(name)


def slot(name: str, field: Field | None = None) -> Value:
    """A single-valued parameter `name` (converted like `field`'s values, if given)."""
    return Value(Slot(name, field), converter=False)


@dataclass(frozen=True)
class _Prepared:
    """A PostgreSQL text as a prepared statement: its name, PREPARE and EXECUTE texts."""

    name: str
    prepare: str
    execute: str

    @classmethod
    def of(cls, sql: str) -> _Prepared:
        name = "rq_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
        count = 0

        def number(match: re.Match[str]) -> str:
            nonlocal count
            if match.group(0) == "%%":
                return "%"
            count += 1
            return f"${count}"

        body = re.sub(r"%%|%s", number, sql)
        arguments = f" ({', '.join(['%s'] * count)})" if count else ""
        return cls(name, f"PREPARE {name} AS {body}", f"EXECUTE {name}{arguments}")


#: The prepared statements of each open PostgreSQL connection (gone with the connection).
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _array_literal(values: list[Any]) -> str:
    """PostgreSQL's text of an array of ints, strings or uuids: `{1,2}`, `{"a","b\\"c"}`."""
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif isinstance(value, bool | int):
            items.append(str(int(value)))
        else:
            text = str(value).replace("\\", "\\\\").replace('"', '\\"')
            items.append(f'"{text}"')
    return "{" + ",".join(items) + "}"


def _run_prepared(prepared: _Prepared, bound: list[Any]) -> Any:
    """EXECUTE the statement on this thread's connection, PREPAREd there first if need be."""
    connection = database.connection()
    known = _prepared_on.get(connection)
    if known is None:
        known = _prepared_on[connection] = set()
    if prepared.name not in known:
        with connection.cursor() as cursor:  # no parameters: the text is taken as it is
            cursor.execute(prepared.prepare)
        known.add(prepared.name)
    arguments = [_array_literal(v) if isinstance(v, list) else v for v in bound]
    return database.execute_sql(prepared.execute, arguments)


class _Compiled(NamedTuple):
    """A query as built for one database."""

    database: weakref.ref[Any]
    sql: str
    params: list[Any]
    converters: list[_Converter | None]  # of its RETURNING (or selected) columns
    prepared: _Prepared | None  # on PostgreSQL


class CompiledQuery:
    """A query built by `build` once per database, run with new slot values each time."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._compiled: dict[int, _Compiled] = {}

    def _text(self) -> _Compiled:
        current = database.obj
        found = self._compiled.get(id(current))
        # an id is reused once its object is gone; a weak reference tells them apart without
        # keeping an old database (and its pool of open connections) alive
        if found is None or found.database() is not current:
            query = self._build()
            sql, params = query.sql()
            columns = getattr(query, "_returning", None) or []
            converters = [c.python_value if isinstance(c, Field) else None for c in columns]
            prepared = None if is_sqlite() else _Prepared.of(sql)
            found = _Compiled(weakref.ref(current), sql, list(params), converters, prepared)
            self._compiled[id(current)] = found
        return found

    @property
    def text(self) -> str:
        """The SQL text for the current database (parameters as the driver takes them)."""
        return self._text().sql

    def execute(self, **values: Any) -> Any:
        """Run the query with `values` for its slots; the database cursor."""
        compiled = self._text()
        bound = [p.encode(values[p.name]) if isinstance(p, Slot) else p for p in compiled.params]
        if compiled.prepared is not None:
            return _run_prepared(compiled.prepared, bound)
        return database.execute_sql(compiled.sql, bound)

    def tuples(self, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the query (or of a write's RETURNING), each column converted by its
        field as peewee would (enums, uuids, instants); expressions as the database gives them."""
        rows = self.execute(**values).fetchall()
        converters = self._text().converters
        if not any(converters):
            return list(rows)
        return [tuple(_convert(c, v) for c, v in zip(converters, row, strict=True)) for row in rows]

    def first(self, model: type[_M], **values: Any) -> _M | None:
        """The first row of a `model.select()` of all its columns, as the instance peewee's
        own `get_or_none` would give (converted, nothing dirty); None without a row."""
        rows = self.tuples(**values)
        if not rows:
            return None
        names = [field.name for field in model._meta.sorted_fields]
        instance = model(__no_default__=1, **dict(zip(names, rows[0], strict=True)))
        instance._dirty.clear()
        return instance

    def count(self, **values: Any) -> int:
        """How many rows a write changed."""
        return int(self.execute(**values).rowcount)


def _convert(converter: _Converter | None, value: Any) -> Any:
    return value if converter is None or value is None else converter(value)
