"""Settings shared by the whole platform and the base every service's settings extend.

The only switch between the embedded and the distributed run is configuration:
`HOTLINE_KAFKA_BOOTSTRAP` set or not, and each service's database URL.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AUTH_SECRET = "dev-only-secret-change-me"
DEFAULT_CONSUMER_BATCH_SIZE = 200


class PlatformSettings(BaseSettings):
    """Settings every service reads (env prefix `HOTLINE_`)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Path("data")
    kafka_bootstrap: str | None = None
    kafka_topic: str = "tickets.lifecycle"
    kafka_dead_letter_topic: str = "tickets.lifecycle.dlq"
    kafka_partitions: int = 6
    kafka_replication_factor: int = 1
    # Apache Kafka supports the idempotent producer; the tansu test broker does not.
    kafka_idempotent_producer: bool = True
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2
    # Events a consumer applies in one transaction (and one offset commit). Bounded so the bulk
    # inbox claim stays within the databases' limit on bound parameters in one statement.
    consumer_batch_size: int = Field(DEFAULT_CONSUMER_BATCH_SIZE, ge=1, le=5000)
    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 200
    auth_secret: str = DEV_AUTH_SECRET
    # Pseudonymous citizen references are keyed hashes, so they cannot be reversed by hashing phones.
    citizen_ref_secret: str = "dev-only-citizen-ref-secret"
    load_demo: bool = False

    @property
    def distributed(self) -> bool:
        return bool(self.kafka_bootstrap)


class ServiceSettings(BaseSettings):
    """Base of each service's own settings; subclasses set their env prefix (e.g. `INTAKE_`)."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None

    def resolved_database_url(self, service: str, platform: PlatformSettings) -> str:
        """The configured URL, or one SQLite file per service under the data folder."""
        if self.database_url:
            return self.database_url
        path = (platform.data_dir / f"{service}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"


@lru_cache
def platform_settings() -> PlatformSettings:
    return PlatformSettings()
