"""intake's HTTP models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.intake import TicketKind, Urgency

# 12345热线 网站 App 微信小程序 微博 领导留言板 市长信箱 短信 政务舆情 网格员 Open311
Channel = Literal[
    "phone",
    "web",
    "app",
    "wechat",
    "weibo",
    "message_board",
    "mayor_mailbox",
    "sms",
    "opinion",
    "grid",
    "open311",
]


class CitizenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    anonymous: bool = False

    @model_validator(mode="after")
    def phone_unless_anonymous(self) -> CitizenIn:
        if not self.anonymous and not self.phone:
            raise ValueError("phone is required unless the citizen is anonymous")
        return self


class TicketIn(BaseModel):
    """A report as a channel gateway posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    kind: TicketKind
    category: str = Field(min_length=1, max_length=200, examples=["城市管理/市容环境/占道经营"])
    urgency: Urgency = "ordinary"
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    area_code: str | None = Field(default=None, max_length=32)
    citizen: CitizenIn
    answer: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="在线解答: an operator's answer given on the spot; closes a consultation at intake",
    )


class CitizenOut(BaseModel):
    name: str | None
    phone: str | None  # masked (138****5678) except for operators
    anonymous: bool


class UnitRef(BaseModel):
    id: str
    name: str | None


class TimelineOut(BaseModel):
    at: datetime
    event: str
    text: str


class TicketOut(BaseModel):
    id: str
    status: str
    status_text: str
    channel: str
    kind: str
    category: str
    urgency: str
    title: str
    description: str
    address: str | None
    area_code: str | None
    citizen: CitizenOut
    lead_unit: UnitRef | None
    received_at: datetime
    timeline: list[TimelineOut]


class TicketSummary(BaseModel):
    id: str
    status: str
    status_text: str
    channel: str
    category: str
    title: str
    area_code: str | None
    lead_unit: UnitRef | None
    received_at: datetime
