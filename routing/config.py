from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    # With no catalogue rule: 首接负责 (the street office of the area leads) or the queue.
    fallback: Literal["first_receiving", "queue"] = "first_receiving"
    # A rule without its own mode: 直派 direct, 逐级 level by level, 双派 dual.
    default_mode: Literal["direct", "level", "dual"] = "direct"
    # 退单 is allowed this many hours after dispatch.
    return_window_hours: float = 24.0
    # An assisting unit that has not replied this many hours after dispatch (or whose sla
    # completion deadline breached) no longer holds up the lead's reply.
    assist_reply_hours: float = 72.0
    # This many dispatches (the first plus two re-dispatches) put a ticket under key supervision.
    key_supervision_dispatches: int = 3


@lru_cache
def settings() -> RoutingSettings:
    return RoutingSettings()
