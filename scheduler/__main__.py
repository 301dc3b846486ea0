"""`python -m scheduler`: the Procfile's scheduler process."""

from __future__ import annotations

import sys

import redis

from config import get_settings
from config.logs import configure_logging
from scheduler.daemon import build_daemon
from store.db import connect_database
from store.migrations import migrate


def main() -> int:
    """Apply migrations, then run the scheduler daemon until SIGTERM or SIGINT."""
    configure_logging(process="scheduler")
    settings = get_settings()
    connect_database(settings.effective_database_url, max_connections=8)
    migrate()
    client = redis.Redis.from_url(
        settings.effective_redis_url, socket_timeout=5, socket_connect_timeout=5
    )
    daemon = build_daemon(settings, client)
    daemon.metrics.serve(settings.scheduler_metrics_port)
    return daemon.serve()


if __name__ == "__main__":
    sys.exit(main())
