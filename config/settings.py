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
