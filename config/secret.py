"""The secret that signs response links and session cookies (interfaces.md, REVIEWQ_SECRET_KEY).

When REVIEWQ_SECRET_KEY is unset, the first process that needs it generates one into
`<data dir>/secret_key` (mode 0600, created exclusively, so concurrent first starts agree on
one key) and every later process reads it back. The key is never logged.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from config.settings import get_settings

SECRET_FILE = "secret_key"
MIN_CHARS = 16


def secret_key() -> str:
    """REVIEWQ_SECRET_KEY, else the data directory's key (generated on first use)."""
    configured = get_settings().secret_key
    if configured:
        return configured
    return _stored_key(get_settings().data_dir / SECRET_FILE)


def _stored_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))
    return _read_key(path)


def _read_key(path: Path) -> str:
    # Another process may have created the file and not written it yet: wait for the key.
    for _ in range(200):
        key = path.read_text().strip()
        if len(key) >= MIN_CHARS:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path}: the secret key file is empty or too short")
