from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AccountsSettings(ServiceSettings):
    """accounts' settings (env prefix `ACCOUNTS_`). Token lifetimes and keys are platform
    settings (`HOTLINE_AUTH_*`): every service verifies what accounts signs."""

    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore")

    password_min_length: int = Field(10, ge=8)
    # argon2id cost (RFC 9106's second recommended option by default).
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(64 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(4, ge=1)


@lru_cache
def settings() -> AccountsSettings:
    return AccountsSettings()
