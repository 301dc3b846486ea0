"""Structured logs for every process (structlog over the standard library's logging).

`configure_logging()` is called once at the start of each process (web, each worker process,
the worker supervisor, the scheduler). `LOG_FORMAT=json` writes each line as one JSON object;
`console` is for people (the default when stderr is a terminal, else json). `LOG_LEVEL` sets
the level (INFO). Loggers are the standard library's (`logging.getLogger(__name__)`, and
dramatiq's, uvicorn's, APScheduler's), so every line of every library goes the same way.

Context bound with `structlog.contextvars.bind_contextvars` (the HTTP request id, a message's
id) is added to every line logged in that context. `redact` keeps secrets out of every line: a
field named like a token, password, secret, authorization or e-mail body is masked, and so is
the password of any URL in a value.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor

from config.settings import get_settings

LogFormat = Literal["json", "console"]
MASK = "***"
SECRET_FIELDS = re.compile(
    r"token|password|passwd|secret|authorization|api_key|cookie|text_body|html_body|body", re.I
)
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^\s:/@]*):[^\s@/]+@", re.I)
URL_MASK = rf"\g<scheme>:{MASK}@"
QUIET_LOGGERS = {"apscheduler": logging.WARNING, "uvicorn.access": logging.WARNING}


def default_format() -> LogFormat:
    return "console" if sys.stderr.isatty() else "json"


def chosen_format(log_format: str | None = None) -> LogFormat:
    """The format this process logs in: the argument, else LOG_FORMAT (environment or
    `.env`), else the default."""
    chosen = (log_format or get_settings().log_format or default_format()).lower()
    if chosen == "json":
        return "json"
    if chosen == "console":
        return "console"
    raise ValueError(f"LOG_FORMAT: {chosen!r} is not json or console")


@functools.lru_cache(maxsize=1024)
def _is_secret_field(key: str) -> bool:
    return key != "event" and SECRET_FIELDS.search(key) is not None


def redact(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Mask secret fields and URL passwords anywhere in the line.

    It runs on every line (a worker logs one per message), so it is cheap where nothing is
    secret: the verdict on a field name is cached (lines reuse a few names), and a value is only
    searched for a URL password when it has an "@", which every such URL has."""
    for key, value in list(event_dict.items()):
        if _is_secret_field(key):
            event_dict[key] = MASK
        elif isinstance(value, str) and "@" in value:
            event_dict[key] = URL_PASSWORD.sub(URL_MASK, value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact,
    ]


def configure_logging(
    log_format: str | None = None, level: str | None = None, *, process: str | None = None
) -> None:
    """Route every logger of this process through structlog, as LOG_FORMAT and LOG_LEVEL say
    (arguments win over the environment); `process` names the process in every line."""
    chosen = chosen_format(log_format)
    os.environ["LOG_FORMAT"] = chosen  # child processes (dramatiq's workers) log the same way
    threshold = (level or get_settings().log_level).upper()
    shared = _shared_processors()
    if process:
        shared.insert(0, _with_process(process))
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if chosen == "json" else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(threshold)))
    for name in ("uvicorn", "uvicorn.error", "dramatiq"):
        named = logging.getLogger(name)
        named.handlers.clear()  # theirs would print a second, unstructured copy
        named.propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _keep(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    return event_dict


def _with_process(process: str) -> Processor:
    def add(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("process", process)
        if "pid" not in event_dict:
            event_dict["pid"] = os.getpid()
        return event_dict

    return add


def current_request_id() -> str | None:
    """The request id bound to this context: the HTTP request being answered (api/observe.py)
    or the message being processed (workers/middleware/observe.py), else None."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def get_logger(name: str) -> Any:
    """A structlog logger (key-value lines) named `name`."""
    return structlog.stdlib.get_logger(name)
