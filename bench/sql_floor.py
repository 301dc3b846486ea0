"""The SQL floor of a phase: reviewq's own statements for its requests, replayed without reviewq.

    recorded = record(plan)                    # each request run once, here, by reviewq's code
    data.reset()
    figures = replay(recorded, dsn, connections=16)

`record` runs each request of a plan in this process through the worker's own code
(`process_request`, then the delivery actors for its e-mails, as the worker's messages would
run them) and keeps every
statement its connection sent to PostgreSQL, BEGIN and COMMIT included, as the driver sent it.
`replay` sends the same statements again, request by request, from `connections` threads on
connections of their own (each with the worker's connection options and the same prepared
statements): no queue, no Python of reviewq's, no e-mail. Its rate is the most PostgreSQL on
this machine gives these requests at that concurrency: whatever the workers do on top can
only lower it.

An id an INSERT's RETURNING gave at recording (a new notification's) is replaced, in that
request's later statements, by the id the same INSERT gives at replay, so a claim updates the
row its request just wrote, as it did at recording.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from cpu_split import cpu_snapshot, cpu_split

_INT_ARRAY = re.compile(r"\{\d+(?:,\d+)*\}")


@dataclass
class Step:
    """One statement as the driver sent it; for an INSERT, the table and the ids its RETURNING
    gave (first column); the parameters that hold a table's id, by position."""

    sql: str
    params: Any
    returned: list[int] = field(default_factory=list)
    creates: str | None = None
    id_params: dict[int, str] = field(default_factory=dict)


@dataclass
class Recorded:
    """The statements of each request, and the statements PREPAREd on the recording
    connection (each replay connection prepares them first, as a worker's connection does)."""

    requests: list[list[Step]]
    prepares: list[str]

    @property
    def statements(self) -> int:
        return sum(len(steps) for steps in self.requests)


class _Recorder:
    steps: list[Step] | None = None


def _recording_cursor(recorder: _Recorder) -> type[psycopg2.extensions.cursor]:
    class RecordingCursor(psycopg2.extensions.cursor):
        def execute(self, query: Any, vars: Any = None) -> None:
            super().execute(query, vars)
            if recorder.steps is None or str(query).startswith("PREPARE "):
                return
            step = Step(str(query), vars)
            if "RETURNING" in str(query) or str(query).startswith("EXECUTE "):
                try:
                    rows = self.fetchall()
                except psycopg2.ProgrammingError:  # no result set
                    rows = []
                if rows:
                    self.scroll(0, mode="absolute")  # the caller reads them as if untouched
                step.returned = [r[0] for r in rows if r and isinstance(r[0], int)]
            recorder.steps.append(step)

    return RecordingCursor


def record(plan: Any) -> Recorded:
    """Run each request of `plan` (bench/pipeline_data.RequestPlan) as the worker would, its
    e-mails delivered as the worker's delivery messages would (by the settings' transport),
    recording the statements of each."""
    from store import database
    from store.enums import RequestKind
    from tasks.messages import parse_request_message
    from tasks.requests.handlers import HANDLERS
    from tasks.requests.lifecycle import process_request
    from workers.delivery import BATCH_SIZE, deliver_notification, deliver_notifications

    kind = RequestKind.ASSIGN_REVIEWS
    recorder = _Recorder()
    connection = database.connection()
    factory = connection.cursor_factory
    connection.cursor_factory = _recording_cursor(recorder)
    requests = []
    try:
        for request_id, body in zip(plan.ids, plan.bodies, strict=True):
            recorder.steps = []
            message = parse_request_message(({"request": body, "request_id": request_id},), {})
            outcome = process_request(kind, message, HANDLERS[kind])
            ids = outcome.notification_ids if outcome else []
            for start in range(0, len(ids), BATCH_SIZE):  # as workers.delivery.send_deliveries
                batch = ids[start : start + BATCH_SIZE]
                if len(batch) == 1:
                    deliver_notification.fn(batch[0])
                else:
                    deliver_notifications.fn(batch)
            requests.append(recorder.steps)
        recorder.steps = None
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, statement FROM pg_prepared_statements")
            prepared = dict(cursor.fetchall())
    finally:
        recorder.steps = None
        connection.cursor_factory = factory
    texts = {name: text.split(" AS ", 1)[1] for name, text in prepared.items()}
    for steps in requests:
        for step in steps:
            name = step.sql.split(" ", 2)[1] if step.sql.startswith("EXECUTE ") else None
            _read_ids(step, texts.get(name or "", step.sql))
    return Recorded(requests, list(prepared.values()))


_INSERT = re.compile(r'INSERT INTO "(\w+)"')
_ALIAS = re.compile(r'"(\w+)" AS "(\w+)"')
_PLACEHOLDER = re.compile(r"\$(\d+)|%s")
_BEFORE_ID = re.compile(r'"(\w+)"\."id" = (?:ANY\(CAST\()?$')


def _read_ids(step: Step, text: str) -> None:
    """Which table's new ids the step returns (an INSERT's), and which of its parameters are
    compared with a table's id (`"t"."id" = $n`, or `= ANY(...)`): those alone are renumbered,
    never a count or a flag that happens to equal an id."""
    insert = _INSERT.match(text)
    step.creates = insert.group(1) if insert and step.returned else None
    if not step.creates:
        step.returned = []
    tables = {alias: table for table, alias in _ALIAS.findall(text)}
    for ordinal, placeholder in enumerate(_PLACEHOLDER.finditer(text)):
        compared = _BEFORE_ID.search(text, 0, placeholder.start())
        if compared is None:
            continue
        index = int(placeholder.group(1)) - 1 if placeholder.group(1) else ordinal
        alias: str = compared.group(1)
        step.id_params[index] = tables.get(alias, alias)


def _renumbered(step: Step, ids: dict[str, dict[int, int]]) -> Any:
    """The step's parameters, each id of a row the replay wrote anew replaced by its new id."""
    params = step.params
    if not step.id_params or not isinstance(params, list | tuple):
        return params

    def one(value: Any, new: dict[int, int]) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return new.get(value, value)
        if isinstance(value, str) and _INT_ARRAY.fullmatch(value):
            items = (new.get(int(v), int(v)) for v in value[1:-1].split(","))
            return "{" + ",".join(map(str, items)) + "}"
        return value

    out = list(params)
    for index, table in step.id_params.items():
        if table in ids and index < len(out):
            out[index] = one(out[index], ids[table])
    return out


def _run_request(cursor: Any, steps: list[Step]) -> None:
    ids: dict[str, dict[int, int]] = {}
    for step in steps:
        cursor.execute(step.sql, _renumbered(step, ids))
        if step.creates:
            new = (row[0] for row in cursor.fetchall())
            ids.setdefault(step.creates, {}).update(zip(step.returned, new, strict=False))


def replay(recorded: Recorded, dsn: str, options: str, connections: int) -> dict[str, Any]:
    """Send each request's statements again, `connections` requests at a time; requests/s
    from the first statement to the last, and the CPU each kind of process spent on it."""
    opened = []
    for _ in range(connections):
        connection = psycopg2.connect(dsn, options=options)
        connection.autocommit = True  # as peewee's: BEGIN and COMMIT are statements
        with connection.cursor() as cursor:
            for statement in recorded.prepares:
                cursor.execute(statement)  # no parameters: sent as it is
        opened.append(connection)
    pending = list(reversed(recorded.requests))
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(connections + 1)

    def work(connection: Any) -> None:
        with connection.cursor() as cursor:
            start.wait()
            while True:
                with lock:
                    if not pending or errors:
                        return
                    steps = pending.pop()
                try:
                    _run_request(cursor, steps)
                except BaseException as exc:  # reported by the caller
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=work, args=(c,)) for c in opened]
    for thread in threads:
        thread.start()
    cpu = cpu_snapshot()
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    split = cpu_split(cpu, cpu_snapshot())  # before the connections (their backends) close
    for connection in opened:
        connection.close()
    if errors:
        raise errors[0]
    count = len(recorded.requests)
    return {
        "requests": count,
        "statements_per_request": round(recorded.statements / count, 1),
        "connections": connections,
        "seconds": round(seconds, 2),
        "requests_per_s": round(count / seconds, 1),
        "cpu_ms_per_request": {k: round(v * 1000 / count, 2) for k, v in split.items()},
    }
