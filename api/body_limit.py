"""The request body cap (REVIEWQ_MAX_BODY_BYTES, default 1 MB): 413 in the family's shape
before the rest of the body is read.

A declared `Content-Length` above the cap is answered at once, without calling the application
or reading a byte of the body; a body without one (chunked) is counted as it streams, and the
read that crosses the cap raises a `Refusal`, answered by the error handlers
(api/errors.py) like any other refusal. The connection is closed after a 413, so the rest of the
body is never read.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Refusal, error_response
from tasks.errors import BodyTooLarge


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: refuse a body above `max_bytes` before reading the rest of it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = error_response(Request(scope), BodyTooLarge(self.max_bytes))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise Refusal(BodyTooLarge(self.max_bytes))
            return message

        await self.app(scope, counted, send)
