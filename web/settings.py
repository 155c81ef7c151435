"""The web pages' settings (env prefix `WEB_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SESSION_SECRET = "dev-only-web-session-secret"


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    # Signs the session cookie; set it in production (the development value is public).
    session_secret: str = DEV_SESSION_SECRET
    # Behind HTTPS set it so the session cookie is never sent in clear.
    cookie_secure: bool = False
    session_hours: float = Field(12.0, gt=0)
    # Distributed mode: each service's base URL, e.g. {"intake": "http://intake:8101", …,
    # "accounts": "http://accounts:8106"}. A service not named here is called in this process.
    service_urls: dict[str, str] = Field(default_factory=dict)
    # A page waits at most this long for a service, then says which one is down.
    timeout_seconds: float = Field(5.0, gt=0)


@lru_cache
def web_settings() -> WebSettings:
    return WebSettings()
