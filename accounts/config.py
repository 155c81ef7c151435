from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from accounts.domain import LockoutPolicy
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
    # Login lockout (登录锁定, accounts.domain.after_failed_login): after this many failed
    # password logins in a row for one account name, each within the window of the one before,
    # the name is locked for the first lockout, and for twice as long at each further failure,
    # at most the cap. A successful login clears it.
    login_max_failures: int = Field(5, ge=1)
    login_failure_window_seconds: int = Field(15 * 60, ge=1)
    login_lockout_seconds: int = Field(60, ge=1)
    login_lockout_max_seconds: int = Field(60 * 60, ge=1)

    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            max_failures=self.login_max_failures,
            window=timedelta(seconds=self.login_failure_window_seconds),
            first_lockout=timedelta(seconds=self.login_lockout_seconds),
            max_lockout=timedelta(seconds=self.login_lockout_max_seconds),
        )


@lru_cache
def settings() -> AccountsSettings:
    return AccountsSettings()
