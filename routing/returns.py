"""退单 returns and 联合认定 joint determination: the two ways ownership is disputed.

A unit returns a ticket that is not its own, with a reason code, within the window after
dispatch; the centre approves (and re-dispatches) or rejects (the unit keeps it). Where the
dispute needs the units around a table, the centre records a joint determination, which
re-dispatches if the lead changes and can add a catalogue rule so the next ticket goes right."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import catalogue_admin, domain
from routing.config import settings
from routing.dispatching import (
    Grounds,
    count_dispatch,
    dispatch,
    end_assignment,
    get_ticket,
    open_assignments,
    redispatch,
)
from routing.domain import AssignmentStatus, ReturnStatus, TicketStatus
from routing.models import Assignment, Determination, ReturnRequest, RoutedTicket, outbox
from routing.reads import get_assignment
from routing.reference import active_unit, join, new_id
from routing.schemas import DeterminationIn, ReturnDecisionIn, ReturnIn
from routing.workflow import own_assignment
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events.routing import AssignmentReturned, AssignmentRole, OwnershipDetermined


def window_closes_at(assignment: Assignment) -> datetime:
    return domain.return_deadline(assignment.dispatched_at, settings().return_window_hours)


async def request_return(
    session: AsyncSession, assignment_id: str, body: ReturnIn, *, who: Principal, now: datetime
) -> ReturnRequest:
    """退单申请: the unit's assignment waits for the centre's decision."""
    assignment = await own_assignment(session, assignment_id, who)
    domain.may_return(
        assignment.status, assignment.dispatched_at, now, settings().return_window_hours
    )
    request = ReturnRequest(
        id=new_id("R"),
        assignment_id=assignment.id,
        ticket_id=assignment.ticket_id,
        unit_id=assignment.unit_id,
        reason_code=body.reason_code,
        explanation=body.explanation,
        status=ReturnStatus.PENDING,
        previous_status=assignment.status,
        requested_at=now,
    )
    session.add(request)
    assignment.status = AssignmentStatus.RETURN_REQUESTED
    return request


async def get_return(session: AsyncSession, return_id: str, who: Principal) -> ReturnRequest:
    request = await session.get(ReturnRequest, return_id)
    if request is None:
        raise NotFound(f"Return '{return_id}' does not exist.", field="return_id")
    if who.role is Role.UNIT and request.unit_id != who.unit_id:
        raise Forbidden("This return belongs to another unit.")
    return request


async def list_returns(
    session: AsyncSession, who: Principal, status: str | None, ticket_id: str | None
) -> Sequence[ReturnRequest]:
    query = select(ReturnRequest).order_by(ReturnRequest.requested_at, ReturnRequest.id)
    if who.role is Role.UNIT:
        query = query.where(ReturnRequest.unit_id == who.unit_id)
    if status:
        query = query.where(ReturnRequest.status == status)
    if ticket_id:
        query = query.where(ReturnRequest.ticket_id == ticket_id)
    return (await session.scalars(query)).all()


def _pending(request: ReturnRequest) -> None:
    if request.status != ReturnStatus.PENDING:
        raise Conflict(
            f"This return was already {request.status}.",
            status_now=request.status,
            allowed_actions=[],
        )


async def _approve(
    session: AsyncSession,
    request: ReturnRequest,
    assignment: Assignment,
    *,
    who: Principal,
    note: str,
    now: datetime,
) -> None:
    request.status, request.decided_at, request.decided_by = ReturnStatus.APPROVED, now, who.subject
    request.decision_note = note
    assignment.status = request.previous_status  # so the end below is from a live state
    await end_assignment(session, assignment, AssignmentStatus.RETURNED, now)
    ticket = await get_ticket(session, assignment.ticket_id)
    ticket.return_count += 1
    await outbox.emit(
        session,
        AssignmentReturned(
            assignment_id=assignment.id,
            unit_id=assignment.unit_id,
            reason_code=request.reason_code,
            explanation=request.explanation,
            return_id=request.id,
        ),
        ticket_id=assignment.ticket_id,
        occurred_at=now,
    )


async def approve(
    session: AsyncSession, return_id: str, body: ReturnDecisionIn, *, who: Principal, now: datetime
) -> ReturnRequest:
    """The centre agrees the ticket is not this unit's: a lead's return is re-dispatched to
    `unit_id` (counted); an assistant's is dropped, or replaced by `unit_id`."""
    request = await get_return(session, return_id, who)
    _pending(request)
    assignment = await get_assignment(session, request.assignment_id, who)
    if body.unit_id == assignment.unit_id:
        raise InvalidInput("unit_id: name a unit other than the one returning it.", field="unit_id")
    if assignment.role == "lead":
        if body.unit_id is None:
            raise InvalidInput(
                "unit_id: approving a lead unit's return names the new lead unit.",
                field="unit_id",
            )
        await active_unit(session, body.unit_id, "unit_id")
        await _approve(session, request, assignment, who=who, note=body.note, now=now)
        # The returned lead has ended; re-dispatch gives the ticket its new lead.
        ticket = await get_ticket(session, assignment.ticket_id)
        await _redispatch_after_return(session, ticket, body.unit_id, request, now)
    else:
        if body.unit_id is not None:
            await active_unit(session, body.unit_id, "unit_id")
        await _approve(session, request, assignment, who=who, note=body.note, now=now)
        if body.unit_id is not None:
            ticket = await get_ticket(session, assignment.ticket_id)
            await dispatch(
                session,
                ticket,
                [(body.unit_id, "assist")],
                Grounds.direct("returned", f"退单后改派协办: {request.reason_code}", now),
            )
    request.redispatched_to = body.unit_id
    return request


async def _redispatch_after_return(
    session: AsyncSession, ticket: RoutedTicket, unit_id: str, request: ReturnRequest, now: datetime
) -> None:
    await count_dispatch(session, ticket, now)
    await dispatch(
        session,
        ticket,
        [(unit_id, cast(AssignmentRole, "lead"))],
        Grounds.direct(
            "returned",
            f"退单后改派（第{ticket.dispatch_count}次派发）: {request.reason_code} {request.explanation}",
            now,
        ),
    )


async def reject(
    session: AsyncSession, return_id: str, body: ReturnDecisionIn, *, who: Principal, now: datetime
) -> ReturnRequest:
    """The centre holds the unit responsible: it keeps the ticket where it was."""
    request = await get_return(session, return_id, who)
    _pending(request)
    if body.unit_id is not None:
        raise InvalidInput(
            "unit_id: a rejected return keeps the ticket with its unit.", field="unit_id"
        )
    if not body.note:
        raise InvalidInput("note: say why the unit keeps the ticket.", field="note")
    assignment = await get_assignment(session, request.assignment_id, who)
    assignment.status = request.previous_status
    request.status, request.decided_at, request.decided_by = ReturnStatus.REJECTED, now, who.subject
    request.decision_note = body.note
    return request


async def determine(
    session: AsyncSession, ticket_id: str, body: DeterminationIn, *, who: Principal, now: datetime
) -> Determination:
    """联合认定: record who is responsible; re-dispatch when the lead changes; settle pending
    returns on the ticket; optionally add the decision to the catalogue as a new version."""
    ticket = await get_ticket(session, ticket_id)
    for unit_id in body.participants:
        await active_unit(session, unit_id, "participants")
    for unit_id in (body.lead_unit_id, *body.assist_unit_ids):
        await active_unit(
            session, unit_id, "lead_unit_id" if unit_id == body.lead_unit_id else "assist_unit_ids"
        )
    if body.lead_unit_id in body.assist_unit_ids:
        raise InvalidInput(
            "assist_unit_ids: the lead unit cannot also assist.", field="assist_unit_ids"
        )
    determination = Determination(
        id=new_id("D"),
        ticket_id=ticket.id,
        participants=join(body.participants),
        lead_unit_id=body.lead_unit_id,
        assist_unit_ids=join(body.assist_unit_ids),
        decision=body.decision,
        decided_at=now,
        decided_by=who.subject,
    )
    if body.add_rule is not None:
        rule = domain.CatalogueRule(
            id=body.add_rule.id or f"J-{determination.id}",
            category=body.add_rule.category.strip("/"),
            area_code=body.add_rule.area,
            keywords=tuple(body.add_rule.keywords),
            lead_unit_id=body.lead_unit_id,
            assist_unit_ids=tuple(body.assist_unit_ids),
            version=0,
        )
        version = await catalogue_admin.add_rule(
            session,
            rule,
            note=f"联合认定 {determination.id}: {body.decision}",
            who=who.subject,
            now=now,
        )
        determination.rule_id, determination.catalogue_version = rule.id, version.version

    # Pending returns are settled by the decision: a unit the decision keeps is refused.
    keep = {body.lead_unit_id, *body.assist_unit_ids}
    pending = (
        await session.scalars(
            select(ReturnRequest).where(
                ReturnRequest.ticket_id == ticket.id, ReturnRequest.status == ReturnStatus.PENDING
            )
        )
    ).all()
    for request in pending:
        assignment = await session.get(Assignment, request.assignment_id)
        assert assignment is not None
        request.decided_at, request.decided_by = now, who.subject
        request.decision_note = f"联合认定 {determination.id}"
        assignment.status = request.previous_status
        if request.unit_id in keep:
            request.status = ReturnStatus.REJECTED
        else:
            request.status = ReturnStatus.APPROVED
            await end_assignment(session, assignment, AssignmentStatus.RETURNED, now)
            ticket.return_count += 1
            await outbox.emit(
                session,
                AssignmentReturned(
                    assignment_id=assignment.id,
                    unit_id=assignment.unit_id,
                    reason_code=request.reason_code,
                    explanation=request.explanation,
                    return_id=request.id,
                ),
                ticket_id=ticket.id,
                occurred_at=now,
            )

    current = (
        await open_assignments(session, ticket) if ticket.status != TicketStatus.QUEUED else []
    )
    lead = next((a for a in current if a.role == "lead"), None)
    holders = {a.unit_id for a in current}
    if ticket.status == TicketStatus.QUEUED or (
        lead is None
        and not any(
            a.role == "lead" and a.status == AssignmentStatus.REPLIED
            for a in await _round(session, ticket)
        )
    ):
        # No lead now (queued, or its lead was just returned): dispatch as decided.
        if ticket.status == TicketStatus.QUEUED:
            ticket.dispatch_count = 1
        else:
            await count_dispatch(session, ticket, now)
        await dispatch(
            session,
            ticket,
            [
                (body.lead_unit_id, "lead"),
                *((u, "assist") for u in body.assist_unit_ids if u not in holders),
            ],
            Grounds(
                mode="direct",
                basis="determination",
                rule_id=determination.rule_id,
                catalogue_version=determination.catalogue_version,
                reason=f"联合认定: {body.decision}",
                at=now,
            ),
        )
    elif lead is not None and lead.unit_id != body.lead_unit_id:
        await redispatch(
            session,
            ticket.id,
            lead_unit_id=body.lead_unit_id,
            assist_unit_ids=body.assist_unit_ids,
            reason=f"联合认定: {body.decision}",
            now=now,
            basis="determination",
            withdrawn="determination",
        )
    session.add(determination)
    await outbox.emit(
        session,
        OwnershipDetermined(
            determination_id=determination.id,
            lead_unit_id=body.lead_unit_id,
            assist_unit_ids=list(body.assist_unit_ids),
            rule_id=determination.rule_id,
            catalogue_version=determination.catalogue_version,
        ),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    return determination


async def _round(session: AsyncSession, ticket: RoutedTicket) -> Sequence[Assignment]:
    rows = await session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.round == ticket.round
        )
    )
    return rows.all()


async def determinations(session: AsyncSession, ticket_id: str) -> Sequence[Determination]:
    await get_ticket(session, ticket_id)
    rows = await session.scalars(
        select(Determination)
        .where(Determination.ticket_id == ticket_id)
        .order_by(Determination.decided_at)
    )
    return rows.all()
