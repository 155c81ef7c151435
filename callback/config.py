from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBACK_", extra="ignore")

    # Give the citizen time to see the result before asking (hours after the reply).
    delay_hours: float = 0.0
    # A callback still due this long after it fell due is overdue (回访时限; the metric and
    # alert watch it).
    overdue_hours: float = 48.0
    # Callback operators, assigned new callbacks in turn (comma-separated staff ids).
    operators: str = "operator-01,operator-02"
    # Unreachable citizens: how many attempts, how far apart, before closing as unreachable.
    max_attempts: int = 3
    retry_spacing_hours: float = 2.0
    # How many times one ticket may be re-opened (重办) after its first handling.
    max_reopens: int = 2
    # Self-rating links (SMS, mini-program): lifetime and signing secret.
    rating_link_hours: float = 72.0
    rating_secret: str = "dev-only-rating-secret"
    rating_base_url: str = "https://12345.example.gov.cn/r/"

    def operator_ids(self) -> list[str]:
        return [o.strip() for o in self.operators.split(",") if o.strip()]


@lru_cache
def settings() -> CallbackSettings:
    return CallbackSettings()
