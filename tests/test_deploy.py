"""deploy/: the Grafana dashboard and the Prometheus scrape example use only metric names that
the three processes export, and point at their configured ports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from peewee import Database
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from config import Settings
from scheduler.metrics import SchedulerMetrics
from workers.middleware.observe import ObservedMessages, mail_deliveries

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def exported_names(sqlite_db: Database) -> set[str]:
    """Every sample name the web, worker and scheduler metrics can carry."""
    names: set[str] = set()
    with TestClient(create_app()) as client:
        client.get("/healthz")
        for family in text_string_to_metric_families(client.get("/metrics").text):
            names |= {sample.name for sample in family.samples} | {family.name}
    worker = ObservedMessages()
    for metric in (worker.messages, worker.duration, worker.in_progress, mail_deliveries()):
        names |= {family.name for family in metric.describe()}
    for family in SchedulerMetrics().registry.collect():
        names.add(family.name)
    return names | {name + s for name in names for s in SUFFIXES}


def test_the_dashboard_queries_only_exported_metrics(sqlite_db: Database) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "reviewq-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"reviewq_[a-z_]+", expr)}
    assert used, "the dashboard queries something"
    missing = used - exported_names(sqlite_db)
    assert not missing, f"the dashboard uses metrics nobody exports: {sorted(missing)}"
    assert len(used) >= 12  # every family of interfaces.md has a panel


def test_the_scrape_example_targets_the_default_ports() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    defaults = Settings()
    assert targets == {
        "reviewq-web": [f"localhost:{defaults.port}"],
        "reviewq-worker": [f"localhost:{defaults.worker_metrics_port}"],
        "reviewq-scheduler": [f"localhost:{defaults.scheduler_metrics_port}"],
    }
