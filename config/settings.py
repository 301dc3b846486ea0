"""The environment variables of interfaces.md, in one typed object."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REDIS_URL = "redis://localhost:6379/0"


class Settings(BaseSettings):
    """Process configuration; every field has the default interfaces.md gives it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        default=Path("./var"), validation_alias=AliasChoices("REVIEWQ_DATA_DIR", "data_dir")
    )
    database_url: str | None = None
    redis_url: str | None = None
    smtp_url: str | None = None
    #: the base of links in e-mails (and wherever there is no request); unset:
    #: http://localhost:$PORT (see `effective_public_url`)
    public_url: str | None = None
    mail_from: str = "reviewq <noreply@localhost>"
    #: signs response links and session cookies; generated into the data dir when unset
    secret_key: str | None = Field(
        default=None, validation_alias=AliasChoices("REVIEWQ_SECRET_KEY", "secret_key"), repr=False
    )
    port: int = 8000
    #: honour X-Forwarded-Proto / X-Forwarded-Host when building links (behind a proxy)
    trust_proxy: bool = Field(
        default=False, validation_alias=AliasChoices("REVIEWQ_TRUST_PROXY", "trust_proxy")
    )
    worker_threads: int = Field(
        default=8, validation_alias=AliasChoices("REVIEWQ_WORKER_THREADS", "worker_threads")
    )
    worker_processes: int = Field(
        default=2, validation_alias=AliasChoices("REVIEWQ_WORKER_PROCESSES", "worker_processes")
    )

    # Structured logs (config/logs.py): json, or console (the default on a terminal).
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Prometheus /metrics of the worker node and of the scheduler (0: not served).
    worker_metrics_port: int = Field(
        default=9191, ge=0, le=65535, validation_alias=AliasChoices("REVIEWQ_WORKER_METRICS_PORT")
    )
    scheduler_metrics_port: int = Field(
        default=9192,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("REVIEWQ_SCHEDULER_METRICS_PORT"),
    )

    # The scheduler daemon (scheduler/): job intervals, windows and the leader lease.
    scheduler_expiry_seconds: float = Field(
        default=60.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_EXPIRY_SECONDS")
    )
    scheduler_reminder_seconds: float = Field(
        default=900.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_REMINDER_SECONDS")
    )
    scheduler_notice_seconds: float = Field(
        default=60.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_NOTICE_SECONDS")
    )
    scheduler_sweep_seconds: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_SWEEP_SECONDS")
    )
    scheduler_lease_seconds: float = Field(
        default=15.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_LEASE_SECONDS")
    )
    scheduler_renew_seconds: float = Field(
        default=5.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_RENEW_SECONDS")
    )
    review_deadline_reminder_days: float = Field(
        default=3.0, ge=0, validation_alias=AliasChoices("REVIEWQ_REVIEW_DEADLINE_REMINDER_DAYS")
    )
    scheduler_redrive_seconds: float = Field(
        default=30.0, gt=0, validation_alias=AliasChoices("REVIEWQ_SCHEDULER_REDRIVE_SECONDS")
    )
    request_redrive_after_seconds: float = Field(
        default=60.0, ge=0, validation_alias=AliasChoices("REVIEWQ_REQUEST_REDRIVE_AFTER_SECONDS")
    )
    outbox_redrive_after_seconds: float = Field(
        default=20.0, ge=0, validation_alias=AliasChoices("REVIEWQ_OUTBOX_REDRIVE_AFTER_SECONDS")
    )
    # Above the delivery actor's time limit (workers/delivery.py), or a live delivery's row
    # could be taken back and sent twice.
    outbox_stale_claim_seconds: float = Field(
        default=30.0, ge=25, validation_alias=AliasChoices("REVIEWQ_OUTBOX_STALE_CLAIM_SECONDS")
    )

    # The web process (api/): the request body cap and the failed-authentication limit.
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, validation_alias=AliasChoices("REVIEWQ_MAX_BODY_BYTES")
    )
    auth_failure_limit: int = Field(
        default=10, ge=0, validation_alias=AliasChoices("REVIEWQ_AUTH_FAILURE_LIMIT")
    )
    auth_failure_window_seconds: int = Field(
        default=60, ge=1, validation_alias=AliasChoices("REVIEWQ_AUTH_FAILURE_WINDOW_SECONDS")
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reviews.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or DEFAULT_REDIS_URL

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
