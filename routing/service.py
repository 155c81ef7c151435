"""routing's use cases: load → decide with domain.py → write → add events to the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain
from routing.models import Area, Assignment, ExtensionRequest, RoutedTicket, Rule, Unit, outbox
from routing.schemas import ExtensionIn, ReplyIn
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Envelope, Payload
from shared.events.callback import TicketReopened
from shared.events.intake import TicketReceived
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentRole,
    AssignmentSigned,
    ExtensionRequested,
    TicketDispatched,
    TicketReplied,
)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split("|") if v)


async def _catalogue(session: AsyncSession) -> list[domain.CatalogueRule]:
    return [
        domain.CatalogueRule(
            id=r.id,
            category=r.category,
            area_code=r.area_code,
            keywords=_split(r.keywords),
            lead_unit_id=r.lead_unit_id,
            assist_unit_ids=_split(r.assist_unit_ids),
            version=r.catalogue_version,
        )
        for r in (await session.scalars(select(Rule))).all()
    ]


async def decide(session: AsyncSession, ticket: RoutedTicket) -> domain.Decision | None:
    parents = dict((await session.execute(select(Area.code, Area.parent_code))).all())
    chain = domain.area_chain(ticket.area_code, parents)
    decision = domain.lead_unit_for(
        category=ticket.category,
        text=f"{ticket.title} {ticket.description}",
        chain=chain,
        rules=await _catalogue(session),
    )
    if decision is None:
        offices = await session.execute(
            select(Unit.area_code, Unit.id).where(Unit.kind == "street_office")
        )
        decision = domain.first_receiving_unit(chain, dict(offices.all()))
    return decision


async def dispatch_received(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.received`: pick the lead and assisting units and dispatch (派单)."""
    data = cast(TicketReceived, event.data())
    if data.answered:
        return  # answered on the spot at intake (在线解答): never dispatched
    ticket = RoutedTicket(
        id=event.ticket_id,
        category=data.category,
        kind=data.kind,
        urgency=data.urgency,
        area_code=data.area_code,
        title=data.title,
        description=data.description,
        address=data.address,
        received_at=data.received_at,
    )
    session.add(ticket)
    decision = await decide(session, ticket)
    if decision is None:
        # Neither a rule nor a street office: it waits in the dispatcher's queue (issue: routing).
        return
    ticket.dispatch_count += 1
    units = [(decision.lead_unit_id, "lead"), *((u, "assist") for u in decision.assist_unit_ids)]
    for unit_id, role in units:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"catalogue names unknown unit {unit_id}")
        assignment = Assignment(
            id=f"A{uuid.uuid4().hex[:16].upper()}",
            ticket_id=ticket.id,
            unit_id=unit_id,
            role=role,
            status="dispatched",
            reason=decision.reason,
            rule_id=decision.rule.id if decision.rule else None,
            catalogue_version=decision.rule.version if decision.rule else None,
            dispatched_at=event.occurred_at,
        )
        session.add(assignment)
        await outbox.emit(
            session,
            TicketDispatched(
                assignment_id=assignment.id,
                unit_id=unit_id,
                unit_name=unit.name,
                role=role,  # type: ignore[arg-type]
                kind=ticket.kind,
                urgency=ticket.urgency,  # type: ignore[arg-type]
                rule_id=assignment.rule_id,
                catalogue_version=assignment.catalogue_version,
                dispatch_count=ticket.dispatch_count,
            ),
            ticket_id=ticket.id,
            occurred_at=event.occurred_at,
            correlation_id=event.correlation_id,
        )


async def get_assignment(session: AsyncSession, assignment_id: str, who: Principal) -> Assignment:
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"Assignment '{assignment_id}' does not exist.", field="assignment_id")
    if who.role is Role.UNIT and assignment.unit_id != who.unit_id:
        raise Forbidden("This assignment belongs to another unit.")
    return assignment


async def worklist(
    session: AsyncSession, who: Principal, status: str | None
) -> Sequence[tuple[Assignment, RoutedTicket]]:
    """A unit's own assignments; the centre sees all."""
    query = (
        select(Assignment, RoutedTicket)
        .join(RoutedTicket, RoutedTicket.id == Assignment.ticket_id)
        .order_by(Assignment.dispatched_at.desc())
    )
    if who.role is Role.UNIT:
        query = query.where(Assignment.unit_id == who.unit_id)
    if status:
        query = query.where(Assignment.status == status)
    return cast(Sequence[tuple[Assignment, RoutedTicket]], (await session.execute(query)).all())


async def act(
    session: AsyncSession,
    assignment_id: str,
    action: str,
    *,
    who: Principal,
    now: datetime,
    reply: ReplyIn | None = None,
) -> Assignment:
    """Sign (签收), contact (首次联系) or reply (办结反馈) on an assignment of the caller's unit."""
    assignment = await get_assignment(session, assignment_id, who)
    if who.role is not Role.UNIT:
        raise Forbidden("Only the assigned unit acts on its assignment.")
    new_status = domain.next_status(assignment.status, action)
    role = cast(AssignmentRole, assignment.role)
    ids = {"assignment_id": assignment.id, "unit_id": assignment.unit_id, "role": role}
    payloads: list[Payload] = []
    if action == "sign":
        assignment.signed_at = now
        payloads.append(AssignmentSigned(**ids))
    elif action == "contact":
        assignment.contacted_at = now
        payloads.append(AssignmentContacted(**ids))
    else:
        assert reply is not None
        if role == "lead":
            await _ensure_assistants_replied(session, assignment)
        assignment.replied_at = now
        assignment.outcome = reply.outcome
        assignment.explanation = reply.explanation
        payloads.append(
            AssignmentReplied(**ids, outcome=reply.outcome, explanation=reply.explanation)
        )
        if role == "lead":
            payloads.append(
                TicketReplied(
                    lead_assignment_id=assignment.id,
                    lead_unit_id=assignment.unit_id,
                    outcome=reply.outcome,
                    explanation=reply.explanation,
                    round=assignment.round,
                )
            )
    for payload in payloads:
        await outbox.emit(session, payload, ticket_id=assignment.ticket_id, occurred_at=now)
    assignment.status = new_status
    return assignment


async def _ensure_assistants_replied(session: AsyncSession, lead: Assignment) -> None:
    assistants = await session.scalars(
        select(Assignment.status).where(
            Assignment.ticket_id == lead.ticket_id,
            Assignment.role == "assist",
            Assignment.round == lead.round,
        )
    )
    if not domain.handling_complete(True, assistants.all()):
        raise Conflict(
            "The lead unit replies after every assisting unit has replied.",
            status_now=lead.status,
            allowed_actions=[],
        )


async def reopen(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.reopened`: the lead unit of the last round handles it again (重办)."""
    data = cast(TicketReopened, event.data())
    ticket = await session.get(RoutedTicket, event.ticket_id)
    if ticket is None:
        raise NotFound(f"re-open of unknown ticket {event.ticket_id}")
    last_lead = await session.scalar(
        select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.role == "lead")
        .order_by(Assignment.round.desc(), Assignment.dispatched_at.desc())
        .limit(1)
    )
    if last_lead is None:
        raise NotFound(f"ticket {ticket.id} has no lead unit to re-open to")
    unit = await session.get(Unit, last_lead.unit_id)
    assert unit is not None
    ticket.round = data.round
    assignment = Assignment(
        id=f"A{uuid.uuid4().hex[:16].upper()}",
        ticket_id=ticket.id,
        unit_id=unit.id,
        role="lead",
        round=data.round,
        status="dispatched",
        reason=f"重办（第{data.round}轮）：{data.reason}",
        rule_id=last_lead.rule_id,
        catalogue_version=last_lead.catalogue_version,
        dispatched_at=event.occurred_at,
    )
    session.add(assignment)
    await outbox.emit(
        session,
        TicketDispatched(
            assignment_id=assignment.id,
            unit_id=unit.id,
            unit_name=unit.name,
            role="lead",
            kind=ticket.kind,
            urgency=ticket.urgency,  # type: ignore[arg-type]
            rule_id=assignment.rule_id,
            catalogue_version=assignment.catalogue_version,
            dispatch_count=ticket.dispatch_count,
            round=data.round,
        ),
        ticket_id=ticket.id,
        occurred_at=event.occurred_at,
        correlation_id=event.correlation_id,
    )


async def request_extension(
    session: AsyncSession, assignment_id: str, body: ExtensionIn, *, who: Principal, now: datetime
) -> ExtensionRequest:
    """延期申请: the unit asks for more working days; sla's centre staff decide."""
    assignment = await get_assignment(session, assignment_id, who)
    if who.role is not Role.UNIT:
        raise Forbidden("Only the assigned unit asks for an extension.")
    domain.may_request_extension(assignment.status)
    request = ExtensionRequest(
        id=f"X{uuid.uuid4().hex[:16].upper()}",
        assignment_id=assignment.id,
        requested_days=body.days,
        reason=body.reason,
        requested_at=now,
    )
    session.add(request)
    await outbox.emit(
        session,
        ExtensionRequested(
            request_id=request.id,
            assignment_id=assignment.id,
            unit_id=assignment.unit_id,
            requested_days=body.days,
            reason=body.reason,
        ),
        ticket_id=assignment.ticket_id,
        occurred_at=now,
    )
    return request


async def list_units(session: AsyncSession) -> Sequence[Unit]:
    return (await session.scalars(select(Unit).order_by(Unit.id))).all()


async def load_directory(
    session: AsyncSession,
    *,
    areas: Iterable[Mapping[str, Any]],
    units: Iterable[Mapping[str, Any]],
    rules: Iterable[Mapping[str, Any]],
    catalogue_version: int = 1,
) -> None:
    """Load areas, units and catalogue rules (the demo city, or an import)."""
    for a in areas:
        await session.merge(
            Area(code=a["code"], name=a["name"], level=a["level"], parent_code=a.get("parent"))
        )
    await session.flush()
    for u in units:
        await session.merge(Unit(id=u["id"], name=u["name"], kind=u["kind"], area_code=u["area"]))
    await session.flush()
    for r in rules:
        await session.merge(
            Rule(
                id=r["id"],
                category=r["category"],
                area_code=r.get("area"),
                keywords="|".join(r.get("keywords", [])),
                lead_unit_id=r["lead"],
                assist_unit_ids="|".join(r.get("assist", [])),
                catalogue_version=catalogue_version,
            )
        )
