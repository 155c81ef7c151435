"""Events produced by callback."""

from __future__ import annotations

from typing import Literal

from shared.events.envelope import Payload, event

NotCallableReason = Literal["anonymous", "declined"]
CallbackChannel = Literal["phone", "sms", "miniprogram"]  # 电话 / 短信链接 / 小程序

Solved = Literal["solved", "partly_solved", "unsolved"]  # 解决 / 部分解决 / 未解决
Satisfaction = Literal[
    "satisfied", "basically_satisfied", "dissatisfied"
]  # 满意 / 基本满意 / 不满意


@event("callback.completed", version=1)
class CallbackCompleted(Payload):
    """The citizen's verdicts from the callback (回访). The free comment stays in callback."""

    callback_id: str
    round: int
    unit_id: str | None
    contacted_by_unit: bool
    solved: Solved
    satisfaction: Satisfaction
    channel: CallbackChannel = "phone"
    revision: int = 1  # 2, 3… when a supervisor had the callback redone; the latest counts


@event("ticket.closed", version=1)
class TicketClosed(Payload):
    """The ticket is finished (办结归档)."""

    reason: str


@event("callback.unreachable", version=1)
class CallbackUnreachable(Payload):
    """Every attempt failed: closed without verdicts (excluded from the rates by rule)."""

    callback_id: str
    round: int
    unit_id: str | None
    attempts: int


@event("callback.excluded", version=1)
class CallbackExcluded(Payload):
    """The ticket cannot be called back (anonymous, or the citizen declined)."""

    callback_id: str
    round: int
    unit_id: str | None
    reason: NotCallableReason


@event("ticket.reopened", version=1)
class TicketReopened(Payload):
    """Not solved or not satisfied, and the demand is reasonable: back to the lead unit for
    another handling round (重办)."""

    callback_id: str
    round: int  # the new handling round, 2 or more
    lead_unit_id: str | None
    reason: str
