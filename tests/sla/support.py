"""Helpers for sla's tests: lifecycle events as the other services would send them, fed
straight to sla's inbox-guarded consumer, and what sla put in its outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from shared.events import Envelope, Payload, new_event
from shared.events.callback import TicketClosed, TicketReopened
from shared.events.intake import TicketReceived
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentSigned,
    ExtensionRequested,
    TicketDispatched,
    TicketReplied,
)
from sla.models import outbox

CATEGORY = "城市管理/市容环境/占道经营"
AREA = "BJ010101"
LEAD = "U-BJ01-CG"
ASSIST = "U-BJ0101"


def event(payload: Payload, ticket_id: str, at: datetime, producer: str) -> Envelope:
    return new_event(payload, ticket_id=ticket_id, producer=producer, occurred_at=at)


def received(
    ticket_id: str,
    at: datetime,
    *,
    citizen_ref: str | None = "c-1",
    category: str = CATEGORY,
    area_code: str | None = AREA,
    urgency: str = "ordinary",
    kind: str = "complaint",
) -> Envelope:
    payload = TicketReceived(
        channel="phone",
        kind=kind,  # type: ignore[arg-type]
        category=category,
        urgency=urgency,  # type: ignore[arg-type]
        title="早市摊贩占道经营",
        description="小区门口早市摊贩占道经营。",
        area_code=area_code,
        address=None,
        citizen_ref=citizen_ref,
        anonymous=citizen_ref is None,
        received_at=at,
    )
    return event(payload, ticket_id, at, "intake")


def dispatched(
    ticket_id: str,
    assignment_id: str,
    at: datetime,
    *,
    unit_id: str = LEAD,
    unit_name: str = "江北区城市管理委员会",
    role: str = "lead",
    urgency: str = "ordinary",
    kind: str = "complaint",
    dispatch_count: int = 1,
    round_: int = 1,
    unit_class: str | None = None,
) -> Envelope:
    payload = TicketDispatched(
        assignment_id=assignment_id,
        unit_id=unit_id,
        unit_name=unit_name,
        role=role,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        urgency=urgency,  # type: ignore[arg-type]
        rule_id="R005",
        catalogue_version=1,
        dispatch_count=dispatch_count,
        round=round_,
        unit_class=unit_class,  # type: ignore[arg-type]
    )
    return event(payload, ticket_id, at, "routing")


def progress(
    step: str, ticket_id: str, assignment_id: str, at: datetime, unit_id: str = LEAD
) -> Envelope:
    """`signed`, `contacted` or `replied` by the unit."""
    common: dict[str, Any] = {"assignment_id": assignment_id, "unit_id": unit_id, "role": "lead"}
    payload: Payload
    if step == "signed":
        payload = AssignmentSigned(**common)
    elif step == "contacted":
        payload = AssignmentContacted(**common)
    else:
        payload = AssignmentReplied(**common, outcome="solved", explanation="已处理。")
    return event(payload, ticket_id, at, "routing")


def ticket_replied(ticket_id: str, assignment_id: str, at: datetime, round_: int = 1) -> Envelope:
    payload = TicketReplied(
        lead_assignment_id=assignment_id,
        lead_unit_id=LEAD,
        outcome="solved",
        explanation="已处理。",
        round=round_,
    )
    return event(payload, ticket_id, at, "routing")


def extension_requested(
    ticket_id: str, assignment_id: str, request_id: str, days: int, at: datetime
) -> Envelope:
    payload = ExtensionRequested(
        request_id=request_id,
        assignment_id=assignment_id,
        unit_id=LEAD,
        requested_days=days,
        reason="需协调多个部门联合执法。",
    )
    return event(payload, ticket_id, at, "routing")


def closed(ticket_id: str, at: datetime) -> Envelope:
    return event(TicketClosed(reason="callback completed"), ticket_id, at, "callback")


def reopened(ticket_id: str, at: datetime, round_: int = 2) -> Envelope:
    payload = TicketReopened(callback_id="CB1", round=round_, lead_unit_id=LEAD, reason="未解决")
    return event(payload, ticket_id, at, "callback")


async def feed(app: FastAPI, *events: Envelope) -> None:
    """Deliver events to sla as its consumer would (inbox claim + handler, one transaction)."""
    runtime = app.state.runtimes["sla"]
    for e in events:
        await runtime.deliver(e)


async def emitted(app: FastAPI, type_: str | None = None) -> list[Envelope]:
    """Every event sla wrote to its outbox, in order."""
    runtime = app.state.runtimes["sla"]
    table = outbox.table
    query = select(table.c.body).order_by(table.c.id)
    if type_:
        query = query.where(table.c.type == type_)
    async with runtime.sessionmaker() as session:
        return [Envelope.model_validate_json(b) for b in (await session.scalars(query)).all()]


async def tick(app: FastAPI) -> int:
    runtime = app.state.runtimes["sla"]
    fired = await runtime.run_job("fire_due_timers")
    raised = await runtime.run_job("escalate_supervision")
    return int(fired) + int(raised)
