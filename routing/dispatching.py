"""Dispatch (派单): the decision and the writing of assignments, for every path that gives a
ticket its units.

The first dispatch on `ticket.received` decides with the catalogue in force (or 首接负责, or the
queue) through `decide`, and writes what `assigned` makes, a run of receipts at a time
(routing.receiving). Manual dispatch, re-dispatch (改派), forwarding (下派), returns (退单), joint
determination (联合认定) and re-handling (重办) all write their assignments through `dispatch`
and end the old ones through `end_assignment`, so every assignment is announced the same way
and every re-dispatch is counted by `count_dispatch` alone. Each path says why and when in one
`Grounds` (派单依据), shared by all the assignments it makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain
from routing.config import settings
from routing.domain import AssignmentStatus, ReturnStatus, TicketStatus
from routing.models import Assignment, ReturnRequest, RoutedTicket, outbox
from routing.reference import DirectoryView, UnitCard, active_unit, directory_view, new_id
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.routing import (
    AssignmentRole,
    AssignmentWithdrawn,
    TicketDispatched,
    TicketKeySupervision,
    WithdrawnReason,
)


async def get_ticket(session: AsyncSession, ticket_id: str) -> RoutedTicket:
    """A ticket routing knows, or 404."""
    ticket = await session.get(RoutedTicket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' is not known to routing.", field="ticket_id")
    return ticket


async def open_assignments(session: AsyncSession, ticket: RoutedTicket) -> list[Assignment]:
    """The assignments of the ticket's current round that have not ended."""
    rows = await session.scalars(
        select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.round == ticket.round)
        .order_by(Assignment.dispatched_at, Assignment.id)
    )
    return [a for a in rows.all() if a.status not in domain.ENDED]


def decide(
    view: DirectoryView, ticket: RoutedTicket, at: datetime
) -> tuple[domain.DispatchPlan | None, domain.Decision | None, str]:
    """The catalogue's choice under its dispatch mode, or 首接负责, or None (the queue), with
    why."""
    chain = domain.area_chain(ticket.area_code, view.parents)
    decision = domain.lead_unit_for(
        category=ticket.category,
        text=f"{ticket.title} {ticket.description}",
        chain=chain,
        rules=view.rules_for(view.version_at(at), ticket.category),
    )
    why = "no catalogue rule matched"
    if decision is not None:
        assert decision.rule is not None
        mode = decision.rule.mode or settings().default_mode
        plan = domain.plan_dispatch(decision, mode=mode, chain=chain, units_at=view.units_at)
        if plan is not None:
            return plan, decision, ""
        why = (
            f"rule {decision.rule.id} names {decision.lead_unit_id}, which has no unit in the area"
        )
    if settings().fallback == "first_receiving":
        first = domain.first_receiving_unit(chain, view.street_offices)
        if first is not None:
            reason = first.reason if decision is None else f"{why}; {first.reason.split('; ')[1]}"
            return (
                domain.DispatchPlan(first.lead_unit_id, (), "direct", reason),
                first,
                "",
            )
        why += "; no street office for 首接负责"
    return None, None, why


@dataclass(frozen=True)
class Grounds:
    """The grounds of a dispatch (派单依据): why and when a ticket's units are given. The
    dispatch `mode`; the `basis`, which kind of grounds they are (the catalogue, 首接负责, the
    dispatcher, a re-dispatch, …); the catalogue rule and version it came from, if any; the
    `reason` text kept on each assignment; and the time `at`. Every assignment one dispatch
    makes shares them."""

    mode: str
    basis: str
    rule_id: str | None
    catalogue_version: int | None
    reason: str
    at: datetime

    @classmethod
    def direct(cls, basis: str, reason: str, at: datetime) -> Grounds:
        """直派 to the units a person named (人工派单, 改派, 退单后改派): no catalogue rule
        stands behind it."""
        return cls("direct", basis, None, None, reason, at)


def assigned(
    ticket: RoutedTicket, unit_id: str, unit: UnitCard, role: AssignmentRole, grounds: Grounds
) -> tuple[dict[str, Any], TicketDispatched]:
    """A new assignment's row and the `ticket.dispatched` announcing it (派单 to a 承办单位):
    every dispatch, one ticket at a time (`dispatch`) or a run of received ones
    (routing.receiving), writes these."""
    row = {
        "id": new_id("A"),
        "ticket_id": ticket.id,
        "unit_id": unit_id,
        "role": role,
        "round": ticket.round,
        "status": AssignmentStatus.DISPATCHED,
        "reason": grounds.reason[:300],
        "rule_id": grounds.rule_id,
        "catalogue_version": grounds.catalogue_version,
        "dispatched_at": grounds.at,
        "mode": grounds.mode,
        "basis": grounds.basis,
    }
    announced = TicketDispatched(
        assignment_id=row["id"],
        unit_id=unit_id,
        unit_name=unit.name,
        unit_class=domain.unit_class_of(unit.kind),  # type: ignore[arg-type]
        role=role,
        kind=ticket.kind,  # type: ignore[arg-type]
        urgency=ticket.urgency,  # type: ignore[arg-type]
        rule_id=grounds.rule_id,
        catalogue_version=grounds.catalogue_version,
        dispatch_count=ticket.dispatch_count,
        round=ticket.round,
        mode=grounds.mode,  # type: ignore[arg-type]
        basis=grounds.basis,  # type: ignore[arg-type]
        return_count=ticket.return_count,
    )
    return row, announced


def assigned_all(
    ticket: RoutedTicket,
    units: Sequence[tuple[str, AssignmentRole]],
    view: DirectoryView,
    grounds: Grounds,
) -> list[tuple[dict[str, Any], TicketDispatched]]:
    """`assigned` for each of `units` (the lead and the assisting 承办单位), in order; a unit
    the directory does not have is refused (NotFound), before anything is written."""
    made = []
    for unit_id, role in units:
        unit = view.units.get(unit_id)
        if unit is None:
            raise NotFound(f"unit '{unit_id}' does not exist", field="unit_id")
        made.append(assigned(ticket, unit_id, unit, role, grounds))
    return made


async def dispatch(
    session: AsyncSession,
    ticket: RoutedTicket,
    units: Sequence[tuple[str, AssignmentRole]],
    grounds: Grounds,
    *,
    correlation_id: str | None = None,
) -> list[Assignment]:
    """New assignments for `units`, each announced by `ticket.dispatched`. Counting is the
    caller's: only some paths are a re-dispatch (see `count_dispatch`)."""
    made = []
    for row, announced in assigned_all(ticket, units, await directory_view(session), grounds):
        assignment = Assignment(**row)
        session.add(assignment)
        made.append(assignment)
        await outbox.emit(
            session,
            announced,
            ticket_id=ticket.id,
            occurred_at=grounds.at,
            correlation_id=correlation_id,
        )
    ticket.status = TicketStatus.DISPATCHED
    ticket.queued_reason = None
    return made


async def end_assignment(
    session: AsyncSession,
    assignment: Assignment,
    status: AssignmentStatus,
    at: datetime,
    withdrawn: WithdrawnReason | None = None,
) -> None:
    """An assignment ends without the unit's reply; `withdrawn` announces it. A return it had
    pending is moot then: it is closed as withdrawn."""
    if assignment.status == AssignmentStatus.RETURN_REQUESTED and withdrawn is not None:
        pending = await session.scalars(
            select(ReturnRequest).where(
                ReturnRequest.assignment_id == assignment.id,
                ReturnRequest.status == ReturnStatus.PENDING,
            )
        )
        for request in pending.all():
            request.status, request.decided_at = ReturnStatus.WITHDRAWN, at
            request.decision_note = f"assignment {withdrawn} before the return was decided"
    assignment.status = status
    assignment.ended_at = at
    if withdrawn is not None:
        await outbox.emit(
            session,
            AssignmentWithdrawn(
                assignment_id=assignment.id,
                unit_id=assignment.unit_id,
                role=cast(AssignmentRole, assignment.role),
                reason=withdrawn,
                round=assignment.round,
            ),
            ticket_id=assignment.ticket_id,
            occurred_at=at,
        )


async def count_dispatch(session: AsyncSession, ticket: RoutedTicket, at: datetime) -> None:
    """Every re-dispatch is counted; reaching the threshold puts the ticket under key
    supervision (重点督办), announced once."""
    ticket.dispatch_count += 1
    threshold = settings().key_supervision_dispatches
    if ticket.key_supervision_at is None and domain.under_key_supervision(
        ticket.dispatch_count, threshold
    ):
        ticket.key_supervision_at = at
        await outbox.emit(
            session,
            TicketKeySupervision(
                dispatch_count=ticket.dispatch_count, return_count=ticket.return_count
            ),
            ticket_id=ticket.id,
            occurred_at=at,
        )


async def check_units(session: AsyncSession, lead: str, assists: Sequence[str] | None) -> None:
    """The units a dispatcher names: active, and the lead not also among the assistants."""
    await active_unit(session, lead, "lead_unit_id")
    for unit_id in assists or ():
        await active_unit(session, unit_id, "assist_unit_ids")
    if assists and lead in assists:
        raise InvalidInput(
            "assist_unit_ids: the lead unit cannot also assist.", field="assist_unit_ids"
        )


async def redispatch(
    session: AsyncSession,
    ticket_id: str,
    *,
    lead_unit_id: str,
    assist_unit_ids: Sequence[str] | None,
    reason: str,
    now: datetime,
    basis: str = "redispatch",
    withdrawn: WithdrawnReason = "redispatched",
) -> RoutedTicket:
    """改派: the open lead is withdrawn and `lead_unit_id` leads; a list of assistants replaces
    the open ones, None keeps them. Counted; the second re-dispatch means key supervision."""
    ticket = await get_ticket(session, ticket_id)
    if ticket.status == TicketStatus.QUEUED:
        raise Conflict(
            "This ticket waits in the queue; dispatch it first.",
            status_now=TicketStatus.QUEUED,
            allowed_actions=["dispatch"],
        )
    current = await open_assignments(session, ticket)
    lead = next((a for a in current if a.role == "lead"), None)
    if lead is None:
        raise Conflict(
            "The lead unit of this round has already replied (or the lead is being returned "
            "and decided separately); nothing to re-dispatch.",
            status_now=AssignmentStatus.REPLIED,
            allowed_actions=[],
        )
    await check_units(session, lead_unit_id, assist_unit_ids)
    if lead.unit_id == lead_unit_id:
        raise InvalidInput(
            f"lead_unit_id: {lead_unit_id} already leads this ticket.", field="lead_unit_id"
        )
    await end_assignment(session, lead, AssignmentStatus.WITHDRAWN, now, withdrawn)
    units: list[tuple[str, AssignmentRole]] = [(lead_unit_id, "lead")]
    if assist_unit_ids is not None:
        for a in current:
            if a.role == "assist":
                await end_assignment(session, a, AssignmentStatus.WITHDRAWN, now, withdrawn)
        units += [(u, "assist") for u in assist_unit_ids]
    await count_dispatch(session, ticket, now)
    await dispatch(
        session,
        ticket,
        units,
        Grounds.direct(basis, f"改派（第{ticket.dispatch_count}次派发）: {reason}", now),
    )
    return ticket
