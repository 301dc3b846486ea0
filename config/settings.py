"""The environment variables of interfaces.md, in one typed object."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    public_url: str = "http://localhost:8000"
    mail_from: str = "reviewq <noreply@localhost>"
    port: int = 8000
    worker_threads: int = Field(
        default=8, validation_alias=AliasChoices("REVIEWQ_WORKER_THREADS", "worker_threads")
    )
    worker_processes: int = Field(
        default=2, validation_alias=AliasChoices("REVIEWQ_WORKER_PROCESSES", "worker_processes")
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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reviews.db').resolve()}"

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
