"""sla's HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TimerOut(BaseModel):
    stage: str
    due_at: datetime
    state: str  # armed, stopped (met or late), fired (breached)
    stopped_at: datetime | None
    fired_at: datetime | None
    met: bool | None  # None while the stage is open


class ClockOut(BaseModel):
    id: str
    ticket_id: str
    assignment_id: str
    unit_id: str
    policy: str
    started_at: datetime
    timers: list[TimerOut]


class OverdueOut(BaseModel):
    ticket_id: str
    assignment_id: str
    unit_id: str
    stage: str
    due_at: datetime
    fired_at: datetime | None
