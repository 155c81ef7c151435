"""Events produced by callback."""

from __future__ import annotations

from typing import Literal

from shared.events.envelope import Payload, event

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


@event("ticket.closed", version=1)
class TicketClosed(Payload):
    """The ticket is finished (办结归档)."""

    reason: str
