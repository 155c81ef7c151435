"""analytics' use cases: project events into fact rows; compute rates over them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import rates
from analytics.config import settings
from analytics.models import AssignmentFact, TicketFact
from shared.clock import aware
from shared.events import Envelope


async def _ticket(session: AsyncSession, ticket_id: str) -> TicketFact:
    fact = await session.get(TicketFact, ticket_id)
    if fact is None:
        fact = TicketFact(ticket_id=ticket_id, dispatch_count=0)
        session.add(fact)
    return fact


async def _assignment(session: AsyncSession, assignment_id: str) -> AssignmentFact:
    fact = await session.get(AssignmentFact, assignment_id)
    if fact is None:
        fact = AssignmentFact(assignment_id=assignment_id)
        session.add(fact)
    return fact


async def project(session: AsyncSession, event: Envelope) -> None:
    """Fold one event into the fact rows. Each event sets only its own fields, so events of
    different producers may arrive in any order and give the same rows."""
    p: dict[str, Any] = event.payload
    at = event.occurred_at
    if event.type == "ticket.received":
        t = await _ticket(session, event.ticket_id)
        t.received_at = at
        t.channel, t.kind, t.category = p["channel"], p["kind"], p["category"]
        t.urgency, t.area_code = p["urgency"], p["area_code"]
    elif event.type == "ticket.dispatched":
        a = await _assignment(session, p["assignment_id"])
        a.ticket_id, a.unit_id, a.role, a.dispatched_at = (
            event.ticket_id,
            p["unit_id"],
            p["role"],
            at,
        )
        t = await _ticket(session, event.ticket_id)
        t.dispatch_count = max(t.dispatch_count or 0, p["dispatch_count"])
        if p["role"] == "lead":
            t.lead_unit_id = p["unit_id"]
    elif event.type == "assignment.signed":
        (await _assignment(session, p["assignment_id"])).signed_at = at
    elif event.type == "assignment.contacted":
        (await _assignment(session, p["assignment_id"])).contacted_at = at
    elif event.type == "assignment.replied":
        (await _assignment(session, p["assignment_id"])).replied_at = at
    elif event.type == "sla.clock_started":
        a = await _assignment(session, p["assignment_id"])
        a.sign_by = datetime.fromisoformat(p["sign_by"])
        a.respond_by = datetime.fromisoformat(p["respond_by"])
        a.complete_by = datetime.fromisoformat(p["complete_by"])
    elif event.type == "ticket.replied":
        (await _ticket(session, event.ticket_id)).replied_at = at
    elif event.type == "callback.completed":
        t = await _ticket(session, event.ticket_id)
        t.callback_at, t.solved, t.satisfaction = at, p["solved"], p["satisfaction"]
    elif event.type == "ticket.closed":
        (await _ticket(session, event.ticket_id)).closed_at = at


PROJECTED = (
    "ticket.received",
    "ticket.dispatched",
    "assignment.signed",
    "assignment.contacted",
    "assignment.replied",
    "sla.clock_started",
    "ticket.replied",
    "callback.completed",
    "ticket.closed",
)


def rate_config() -> rates.RateConfig:
    s = settings()
    return rates.RateConfig(
        version=s.rates_config_version,
        partly_solved_weight=s.partly_solved_weight,
        basically_satisfied_weight=s.basically_satisfied_weight,
    )


def _opt(value: datetime | None) -> datetime | None:
    return aware(value) if value else None


async def three_rates(
    session: AsyncSession, *, start: datetime, end: datetime, unit_id: str | None
) -> dict[str, rates.Rate]:
    leads = select(AssignmentFact).where(
        AssignmentFact.role == "lead",
        AssignmentFact.dispatched_at >= start,
        AssignmentFact.dispatched_at < end,
    )
    verdicts = select(TicketFact).where(
        TicketFact.callback_at >= start,
        TicketFact.callback_at < end,
        TicketFact.solved.is_not(None),
    )
    if unit_id:
        leads = leads.where(AssignmentFact.unit_id == unit_id)
        verdicts = verdicts.where(TicketFact.lead_unit_id == unit_id)
    lead_rows = (await session.scalars(leads)).all()
    verdict_rows = (await session.scalars(verdicts)).all()
    config = rate_config()
    vs = [rates.Verdict(v.solved or "", v.satisfaction or "") for v in verdict_rows]
    return {
        "response": rates.response_rate(
            rates.LeadAssignment(
                dispatched_at=aware(a.dispatched_at) if a.dispatched_at else start,
                signed_at=_opt(a.signed_at),
                contacted_at=_opt(a.contacted_at),
                sign_by=_opt(a.sign_by),
                respond_by=_opt(a.respond_by),
            )
            for a in lead_rows
        ),
        "resolution": rates.resolution_rate(vs, config),
        "satisfaction": rates.satisfaction_rate(vs, config),
    }
