"""routing's HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.routing import ReplyOutcome


class ReplyIn(BaseModel):
    """办结反馈: the outcome and the explanation the citizen will read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: ReplyOutcome
    explanation: str = Field(min_length=1, max_length=2000)


class ExtensionIn(BaseModel):
    """延期申请: how many more working days, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=1000)


class ExtensionOut(BaseModel):
    id: str
    assignment_id: str
    requested_days: int
    reason: str
    requested_at: datetime


class AssignmentOut(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    role: str
    round: int
    status: str
    allowed_actions: list[str]
    title: str
    description: str
    category: str
    address: str | None
    reason: str
    dispatched_at: datetime
    signed_at: datetime | None
    contacted_at: datetime | None
    replied_at: datetime | None
    outcome: str | None
    explanation: str | None


class UnitOut(BaseModel):
    id: str
    name: str
    kind: str
    area_code: str
