"""`python -m api`: the Procfile's web process, uvicorn on $PORT, after the migrations."""

from __future__ import annotations

import uvicorn

from config import get_settings
from store.db import connect_database
from store.migrations import migrate


def main() -> None:
    settings = get_settings()
    connect_database(settings.effective_database_url, max_connections=settings.worker_threads + 32)
    migrate()
    uvicorn.run("api.app:create_app", factory=True, host="0.0.0.0", port=settings.port)


if __name__ == "__main__":
    main()
