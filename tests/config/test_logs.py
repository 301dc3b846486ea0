"""The log contract (config/logs.py): with LOG_FORMAT=json every line of every process is one
JSON object; a request id flows from HTTP into the lines; the worker logs one line per
message; the scheduler logs each job run with its counts; no token, password or e-mail body
is ever in a line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from peewee import Database

from config.logs import configure_logging
from store import Notification
from store.enums import NotificationKind, NotificationStatus
from tasks.users import create_user
from tests.builders import REDIS_URL, free_port, stop_process_group
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.delivery import deliver_notification

ROOT = Path(__file__).resolve().parents[2]
REVIEWQ = Path(sys.executable).parent / "reviewq"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    format_before = os.environ.get("LOG_FORMAT")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    if format_before is None:
        os.environ.pop("LOG_FORMAT", None)
    else:
        os.environ["LOG_FORMAT"] = format_before


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of `text`, each of which must be one JSON object."""
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        value = json.loads(line)  # raises on a line that is not JSON
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def test_json_lines_carry_context_and_mask_secrets(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "INFO", process="test")
    log = logging.getLogger("reviewq.test")
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        log.info("hello", extra={"token": "t0ps3cr3t", "url": "postgresql://u:hunter2@db/x"})
    log.info("plain %s", "args")
    log.debug("not shown at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = json_lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == ["hello", "plain args", "failed"]
    first = lines[0]
    assert first["request_id"] == "req-1" and first["process"] == "test"
    assert first["level"] == "info" and first["logger"] == "reviewq.test"
    assert first["token"] == "***" and first["url"] == "postgresql://u:***@db/x"
    assert "request_id" not in lines[1]
    assert "ValueError: boom" in lines[2]["exception"]
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("xml")


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}
    except OSError:
        return 0, {}  # not listening yet


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **env, "LOG_FORMAT": "json"}, stdout=out,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _wait(predicate: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


@pytest.mark.e2e
def test_every_process_logs_json_with_the_request_id_and_no_secret(
    tmp_path: Path, sqlite_db: Database, redis_client: Any
) -> None:
    db_url = f"sqlite:///{tmp_path}/reviews.db"
    env = {"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    from store.db import connect_database
    from store.migrations import migrate

    connect_database(db_url)
    migrate()
    _user, token = create_user("ops", is_staff=True)
    make_review(make_proposal(make_call()), "rev_log")
    make_reviewer("ada_log", email="ada@example.org")
    body = "SECRET-BODY-0451 your personal link"
    note = Notification.create(
        kind=NotificationKind.INVITATION, recipient="r@example.org", subject="Invitation",
        text_body=body, html_body=f"<p>{body}</p>", dedupe_key="log-test",
    )  # fmt: skip
    port = free_port()
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "scheduler")}
    web = _start([sys.executable, "-m", "api"], {**env, "PORT": str(port)}, logs["web"])
    worker = _start(
        [str(REVIEWQ), "worker", "--processes", "1", "--threads", "2"],
        {**env, "REVIEWQ_WORKER_METRICS_PORT": "0"},
        logs["worker"],
    )
    scheduler = _start(
        [sys.executable, "-m", "scheduler"],
        {**env, "REVIEWQ_SCHEDULER_METRICS_PORT": "0", "REVIEWQ_SCHEDULER_SWEEP_SECONDS": "1"},
        logs["scheduler"],
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: _get(f"{base}/healthz", {})[0] == 200, "web did not start")
        status, headers = _get(
            f"{base}/api/assignment-batches/",
            {"Authorization": f"Token {token}", "X-Request-ID": "trace-42"},
        )
        assert status == 200 and headers["x-request-id"] == "trace-42"
        status, headers = _get(f"{base}/api/assignment-batches/", {"Authorization": "Token nope"})
        assert status == 401 and len(headers["x-request-id"]) == 32  # generated
        assigned = _post(
            f"{base}/v1/reviews/assign",
            {
                "reviewIds": ["rev_log"],
                "assignmentStrategy": {"type": "specific", "assignTo": ["ada_log"]},
            },
            {"Authorization": f"Bearer {token}", "X-Request-ID": "trace-77"},
        )
        assert assigned == 200
        deliver_notification.send(note.id)
        _wait(
            lambda: Notification.get_by_id(note.id).status == NotificationStatus.SENT,
            "the e-mail was not delivered",
        )
        _wait(lambda: "scheduler job run" in logs["scheduler"].read_text(), "no job run line")
    finally:
        for process in (web, worker, scheduler):
            stop_process_group(process)
    _check_lines(logs, tmp_path, note)
    everything = "".join(path.read_text() for path in logs.values())
    for secret in (token, "SECRET-BODY-0451", "nope"):
        assert secret not in everything, secret


def _check_lines(logs: dict[str, Path], tmp_path: Path, note: Notification) -> None:
    """What the three processes' lines say of the run (each line one JSON object)."""
    lines = {name: json_lines(path.read_text()) for name, path in logs.items()}
    access = [line for line in lines["web"] if line["event"] == "http request"]
    traced = [line for line in access if line.get("request_id") == "trace-42"]
    assert traced and traced[0]["route"] == "/api/assignment-batches/"
    assert traced[0]["status"] == 200 and traced[0]["method"] == "GET"
    processed = [line for line in lines["worker"] if line["event"] == "message processed"]
    deliveries = [line for line in processed if line["actor"] == "deliver_notification"]
    [delivery] = [line for line in deliveries if line.get("request_id") is None]
    assert delivery["outcome"] == "succeeded" and delivery["attempt"] == 1
    assert delivery["message_id"] and delivery["duration_ms"] >= 0
    # the request id of the HTTP request flows into its message and the mail it caused
    [assign] = [line for line in processed if line["actor"] == "assign_reviews"]
    assert assign["request_id"] == "trace-77" and assign["outcome"] == "succeeded"
    assert [line["request_id"] for line in deliveries if line["request_id"]] == ["trace-77"]
    # ... and into the outbox row and the e-mail's headers
    [invitation] = Notification.select().where(Notification.id != note.id)
    assert invitation.request_id == "trace-77" and note.request_id is None
    [eml] = [p for p in (tmp_path / "outbox").glob("*.eml") if "trace-77" in p.read_text()]
    assert "X-Request-ID: trace-77" in eml.read_text()
    runs = [line for line in lines["scheduler"] if line["event"] == "scheduler job run"]
    assert any(run["job"] == "sweep_outbox" and "counts" in run for run in runs)


def test_redact_masks_as_the_plain_search_and_substitution_would(restore_logging: None) -> None:
    """`redact` caches its verdict on field names and skips values without an "@": the line
    must come out as checking every name and substituting every value would."""
    import re

    from config.logs import MASK, SECRET_FIELDS, URL_PASSWORD, redact

    def reference(event_dict: dict[str, Any]) -> dict[str, Any]:
        out = dict(event_dict)
        for key, value in event_dict.items():
            if key != "event" and SECRET_FIELDS.search(key):
                out[key] = MASK
            elif isinstance(value, str):
                out[key] = URL_PASSWORD.sub(rf"\g<scheme>:{MASK}@", value)
        return out

    lines: list[dict[str, Any]] = [
        {"event": "token refreshed", "api_key": "k", "Authorization": "Bearer x", "n": 3},
        {"event": "x", "url": "redis://:pw@h:6379/0", "dsn": "postgresql://u:p@db/x a@b"},
        {"event": "x", "note": "mail me at a@b.example", "html_body": None, "ok": "no at sign"},
        {"event": "x", "url": "https://user@host/path", "nested": {"password": "kept as is"}},
        {"event": "password reset", "actor": "noop", "message_id": "m@1", "attempt": 1},
    ]
    for _ in range(2):  # the second round is answered from the cache of field names
        for line in lines:
            assert redact(None, "info", dict(line)) == reference(line), line
    assert redact(None, "info", {"event": "x", "u": "amqp://a:b@h"})["u"] == "amqp://a:***@h"
    assert re.search("secret", "client_secret")  # a name first seen now is still masked
    assert redact(None, "info", {"event": "x", "client_secret": "s"})["client_secret"] == MASK
