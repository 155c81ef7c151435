from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBACK_", extra="ignore")

    # Give the citizen time to see the result before asking (hours after the reply).
    delay_hours: float = 0.0


@lru_cache
def settings() -> CallbackSettings:
    return CallbackSettings()
