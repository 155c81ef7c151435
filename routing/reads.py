"""What units and the centre read of routing's work: a ticket's routing, an assignment, the
worklist and an assignment's progress notes (办理进展). Each read applies the one access rule:
a unit sees only what was dispatched to it; the centre sees all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.dispatching import get_ticket
from routing.models import Assignment, ProgressNote, RoutedTicket
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound


async def routed_ticket(
    session: AsyncSession, ticket_id: str, who: Principal
) -> tuple[RoutedTicket, list[Assignment]]:
    """A ticket's routing: counts, supervision, every assignment of every round."""
    ticket = await get_ticket(session, ticket_id)
    rows = (
        await session.scalars(
            select(Assignment)
            .where(Assignment.ticket_id == ticket.id)
            .order_by(Assignment.round, Assignment.dispatched_at, Assignment.id)
        )
    ).all()
    if who.role is Role.UNIT and all(a.unit_id != who.unit_id for a in rows):
        raise Forbidden("This ticket was never dispatched to your unit.")
    return ticket, list(rows)


async def get_assignment(session: AsyncSession, assignment_id: str, who: Principal) -> Assignment:
    """An assignment the caller may see: a unit its own, the centre any."""
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
        .order_by(Assignment.dispatched_at.desc(), Assignment.id)
    )
    if who.role is Role.UNIT:
        query = query.where(Assignment.unit_id == who.unit_id)
    if status:
        query = query.where(Assignment.status == status)
    return cast(Sequence[tuple[Assignment, RoutedTicket]], (await session.execute(query)).all())


async def notes(
    session: AsyncSession, assignment_id: str, who: Principal
) -> Sequence[ProgressNote]:
    """An assignment's progress notes (办理进展), oldest first."""
    assignment = await get_assignment(session, assignment_id, who)
    rows = await session.scalars(
        select(ProgressNote)
        .where(ProgressNote.assignment_id == assignment.id)
        .order_by(ProgressNote.noted_at, ProgressNote.id)
    )
    return rows.all()
