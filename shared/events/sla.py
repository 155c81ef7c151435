"""Events produced by sla."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from shared.events.envelope import Payload, event

ClockStage = Literal["sign", "response", "completion"]


@event("sla.clock_started", version=1)
class ClockStarted(Payload):
    """Deadlines armed for an assignment at dispatch."""

    clock_id: str
    assignment_id: str
    unit_id: str
    policy: str
    sign_by: AwareDatetime
    respond_by: AwareDatetime
    complete_by: AwareDatetime


@event("sla.breached", version=1)
class SlaBreached(Payload):
    """A deadline passed with the stage still open (超期)."""

    clock_id: str
    assignment_id: str
    unit_id: str
    stage: ClockStage
    due_at: AwareDatetime
