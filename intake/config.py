from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")


@lru_cache
def settings() -> IntakeSettings:
    return IntakeSettings()
