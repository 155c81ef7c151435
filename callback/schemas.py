"""callback's HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.callback import Satisfaction, Solved


class ResultIn(BaseModel):
    """The citizen's answers, recorded by a callback operator."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contacted_by_unit: bool
    solved: Solved
    satisfaction: Satisfaction
    comment: str | None = Field(default=None, max_length=1000)


class CallbackOut(BaseModel):
    id: str
    ticket_id: str
    round: int
    lead_unit_id: str | None
    reply_outcome: str | None
    status: str
    due_at: datetime
    completed_at: datetime | None
    contacted_by_unit: bool | None
    solved: str | None
    satisfaction: str | None
    comment: str | None
    operator: str | None
