"""The scheduler's Prometheus metrics (names part of interfaces.md), served on
REVIEWQ_SCHEDULER_METRICS_PORT by `python -m scheduler`:

- `reviewq_scheduler_job_runs_total{job,outcome}`: runs that `succeeded` or `failed` (a fire this
  process did not run, as a standby or for a slot another process took, is not a run);
- `reviewq_scheduler_job_lag_seconds{job}`: how late the last run started after its slot's time;
- `reviewq_scheduler_leader`: 1 while this process holds the leader lease, else 0.
"""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

logger = logging.getLogger(__name__)


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter(
            "reviewq_scheduler_job_runs",
            "Scheduler job runs by job and outcome.",
            ("job", "outcome"),
            registry=self.registry,
        )
        self.lag = Gauge(
            "reviewq_scheduler_job_lag_seconds",
            "How late the job's last run started after its slot's fire time.",
            ("job",),
            registry=self.registry,
        )
        self.leader = Gauge(
            "reviewq_scheduler_leader",
            "1 while this process holds the leader lease.",
            registry=self.registry,
        )

    def declare(self, jobs: list[str]) -> None:
        """Every job's series from the start, at 0, so that rates and alerts work at once."""
        for job in jobs:
            for outcome in ("succeeded", "failed"):
                self.runs.labels(job, outcome)
            self.lag.labels(job)
        self.leader.set(0)

    def ran(self, job: str, outcome: str, lag_seconds: float) -> None:
        self.runs.labels(job, outcome).inc()
        self.lag.labels(job).set(max(0.0, lag_seconds))

    def serve(self, port: int) -> WSGIServer | None:
        """Serve on `port` (0: not at all); a port in use is logged, not fatal."""
        if port == 0:
            return None
        try:
            server, _thread = start_http_server(port, registry=self.registry)
        except OSError as exc:
            logger.warning("scheduler metrics not served on port %s: %s", port, exc)
            return None
        logger.info("scheduler metrics on http://0.0.0.0:%s/metrics", port)
        return server
