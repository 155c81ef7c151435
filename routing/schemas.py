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


class AssignmentOut(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    role: str
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
