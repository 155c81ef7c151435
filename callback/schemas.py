"""callback's HTTP models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from callback.domain import AttemptOutcome
from shared.events.callback import Satisfaction, Solved
from shared.text import LINE, TEXT


class VerdictIn(BaseModel):
    """The citizen's answers (回访结果)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contacted_by_unit: bool
    solved: Solved
    satisfaction: Satisfaction
    comment: Annotated[str, Field(max_length=1000), TEXT] | None = None


class ResultIn(VerdictIn):
    """Recorded by a callback operator, who also judges whether to re-open (重办)."""

    reopen: bool = False
    reopen_reason: Annotated[str, Field(max_length=500), TEXT] | None = None


class RatingIn(VerdictIn):
    """The citizen's own rating from the SMS link or the mini-program."""

    token: Annotated[str, Field(min_length=10, max_length=200), LINE]
    channel: Literal["sms", "miniprogram"] = "sms"


class AttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: AttemptOutcome


class DecisionIn(BaseModel):
    """An operator's judgement on a citizen's negative self-rating."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reopen: bool
    reason: Annotated[str, Field(max_length=500), TEXT] | None = None


class RedoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Field(min_length=1, max_length=500), TEXT]


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, le=200)
    seed: int | None = None


class AttemptOut(BaseModel):
    at: datetime
    operator: str
    outcome: str


class CallbackOut(BaseModel):
    id: str
    ticket_id: str
    round: int
    source: str  # reply (办结反馈) or answer (在线解答)
    lead_unit_id: str | None
    reply_outcome: str | None
    status: str
    allowed_actions: list[str]
    exclusion_reason: str | None
    assigned_to: str | None
    attempts: list[AttemptOut]
    due_at: datetime
    completed_at: datetime | None
    channel: str | None
    contacted_by_unit: bool | None
    solved: str | None
    satisfaction: str | None
    comment: str | None
    operator: str | None
    decision: str | None
    revision: int
    redo_reason: str | None


class RatingLinkOut(BaseModel):
    callback_id: str
    token: str
    url: str
    expires_at: datetime
