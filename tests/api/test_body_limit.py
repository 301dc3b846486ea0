"""Defect 7 (#12): request bodies are capped at REVIEWQ_MAX_BODY_BYTES (default 1 MB), with a
413 in the family's shape before the rest is read. Against a real `web` process: a declared
64 MB Content-Length is answered before a byte of the body is sent, and a chunked 64 MB body is
cut off after about the cap, with the server's memory staying where it was."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

BIG = 64 * 1024 * 1024
CAP = 1_048_576
CHUNK = 64 * 1024
TOO_LARGE = f"Request body too large: at most {CAP} bytes are accepted."


def rss_kib(pid: int) -> int:
    """The resident memory of process `pid` (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return int(lines[0].split()[1]), headers, json.loads(rest[:length])


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    web_servers: Callable[..., tuple[str, Any]],
) -> None:
    url, _proc = web_servers()
    for path, body in (
        ("/api/assignment-batches/", {"detail": TOO_LARGE}),
        (
            "/v1/reviews/assign",
            {"error": {"code": "PAYLOAD_TOO_LARGE", "message": TOO_LARGE, "maxBytes": CAP}},
        ),
    ):
        sock = connect(url)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Token whatever\r\n"
            f"Content-Type: application/json\r\nContent-Length: {BIG}\r\n\r\n"
        )
        sock.sendall(head.encode())
        started = time.monotonic()
        status, headers, answer = read_response(sock)  # no byte of the body sent
        assert (status, answer) == (413, body)
        assert headers["connection"] == "close"
        assert time.monotonic() - started < 5
        sock.close()


def test_a_chunked_oversized_body_is_cut_off_and_memory_stays_low(
    web_servers: Callable[..., tuple[str, Any]],
) -> None:
    url, proc = web_servers()
    before = rss_kib(proc.pid)
    sock = connect(url)
    head = (
        "POST /v1/reviews/assign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    payload = b"[" + b"1," * (CHUNK // 2 - 1) + b"1"  # one chunk of a huge JSON array
    frame = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
    sent = 0
    try:
        while sent < BIG:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(frame)
            sent += len(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _headers, body = read_response(sock)
    sock.close()
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    # the server stopped reading after about the cap (plus the sockets' buffers)
    assert sent < 16 * 1024 * 1024, sent
    assert rss_kib(proc.pid) - before < 32 * 1024, (before, rss_kib(proc.pid))


def test_a_body_at_the_cap_is_read_and_one_byte_more_is_not(api_client: TestClient) -> None:
    """In-process: the cap counts the bytes actually received (no Content-Length needed)."""
    path = "/api/assignment-batches/"
    notes = "x" * (CAP - len('{"manager_notes": ""}'))
    at_cap = json.dumps({"manager_notes": notes}).encode()
    assert len(at_cap) == CAP

    def chunks(data: bytes) -> Any:
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]

    headers = {"Authorization": "Token nope", "Content-Type": "application/json"}
    read = api_client.post(path, content=chunks(at_cap), headers=headers)
    assert read.status_code == 401  # read in full, then refused for the token
    over = api_client.post(path, content=chunks(at_cap + b" "), headers=headers)
    assert (over.status_code, over.json()) == (413, {"detail": TOO_LARGE})
