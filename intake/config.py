from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    max_title_chars: int = 100
    max_description_chars: int = 4000


@lru_cache
def settings() -> IntakeSettings:
    return IntakeSettings()
