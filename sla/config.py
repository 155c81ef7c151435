from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    timer_tick_seconds: float = 5.0
    timer_batch_size: int = 500
    # Extensions (延期): how many per assignment, how long each and in all (working days).
    extension_max_count: int = 2
    extension_max_days: int = 10
    extension_max_total_days: int = 15
    # Supervision (督办): working days each level waits for activity before the next.
    supervision_platform_days: int = 1
    supervision_phone_days: int = 2
    supervision_on_site_days: int = 3
    # Repeated complaints against a unit (clusters are intake's): reports within these days.
    cluster_window_days: int = 30


@lru_cache
def settings() -> SlaSettings:
    return SlaSettings()
