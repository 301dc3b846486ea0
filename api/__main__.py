"""`python -m api`: the Procfile's web process, uvicorn on $PORT, after the migrations."""

from __future__ import annotations

import uvicorn

from config import get_settings
from config.logs import configure_logging
from store.db import connect_database
from store.migrations import migrate


def main() -> None:
    configure_logging(process="web")
    settings = get_settings()
    connect_database(settings.effective_database_url, max_connections=settings.worker_threads + 32)
    migrate()
    # links honour X-Forwarded-* only when REVIEWQ_TRUST_PROXY=1 (api/serializers/links.py),
    # so uvicorn must not rewrite the scheme from them on its own
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host="0.0.0.0",
        port=settings.port,
        log_config=None,  # uvicorn's loggers go through config/logs.py like every other
        access_log=False,  # api/observe.py logs each request, with its id
        proxy_headers=settings.trust_proxy,
        forwarded_allow_ips="*" if settings.trust_proxy else None,
    )


if __name__ == "__main__":
    main()
