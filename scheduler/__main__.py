"""`python -m scheduler`: the Procfile's scheduler process."""

from __future__ import annotations

import logging
import sys

import redis

from config import get_settings
from scheduler.daemon import build_daemon
from store.db import connect_database
from store.migrations import migrate


def main() -> int:
    """Apply migrations, then run the scheduler daemon until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
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
