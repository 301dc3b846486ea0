"""The worker node's `/metrics`: what every worker process of one `reviewq worker` counted
(workers/middleware/metrics.py), summed by prometheus-client's multiprocess collector and
served by the supervising process on REVIEWQ_WORKER_METRICS_PORT.

`prepare_directory` gives the node a fresh PROMETHEUS_MULTIPROC_DIR before any worker process
starts (the processes inherit it); a process that died leaves its counters (totals keep
counting what it did) and has its live gauges dropped at the next scrape.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, multiprocess, start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_directory(data_dir: Path) -> Path:
    """An empty metrics directory for this node (one per supervising pid), set in the
    environment that the worker processes inherit."""
    directory = (data_dir / "metrics" / f"worker-{os.getpid()}").resolve()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[ENV] = str(directory)
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pids_with_live_gauges(directory: Path) -> Iterable[int]:
    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit():
            yield int(pid)


class NodeCollector(Collector):
    """The sum over the node's processes, forgetting the live gauges of dead ones first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(self.registry, path=str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        for pid in set(_pids_with_live_gauges(self.directory)):
            if not _alive(pid):
                multiprocess.mark_process_dead(pid, path=str(self.directory))  # type: ignore[no-untyped-call]
        return self.registry.collect()


def serve(directory: Path, port: int) -> WSGIServer | None:
    """Serve the node's metrics on `port` (0: not at all); a port in use is logged, not fatal:
    the worker runs on without metrics."""
    if port == 0:
        return None
    registry = CollectorRegistry()
    registry.register(NodeCollector(directory))
    try:
        server, _thread = start_http_server(port, registry=registry)
    except OSError as exc:
        logger.warning("worker metrics not served on port %s: %s", port, exc)
        return None
    logger.info("worker metrics on http://0.0.0.0:%s/metrics", port)
    return server
