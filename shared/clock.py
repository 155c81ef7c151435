"""An injectable clock, so tests and simulations can move through weeks of deadlines in seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, overload
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every instant we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@overload
def china_time(value: datetime) -> datetime: ...
@overload
def china_time(value: None) -> None: ...
def china_time(value: datetime | None) -> datetime | None:
    """Instants are stored in UTC and shown to people in Asia/Shanghai (None stays None)."""
    return aware(value).astimezone(CHINA) if value is not None else None
