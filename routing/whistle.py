"""吹哨报到 (whistle and report): a street or community that cannot solve a problem alone
"blows the whistle" on the ticket, naming departments that must report (respond) within a time
limit. Each report, and whether it was late, is recorded; a summons never answered shows as
overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain
from routing.domain import AssignmentStatus
from routing.models import Assignment, RoutedTicket, Unit, Whistle, WhistleSummons, outbox
from routing.reference import active_unit, new_id
from routing.schemas import WhistleIn, WhistleReportIn
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events.routing import WhistleBlown, WhistleReported

WHISTLERS = ("street_office", "community")  # 街道/乡镇 and 社区/村 blow the whistle


async def blow(
    session: AsyncSession, ticket_id: str, body: WhistleIn, *, who: Principal, now: datetime
) -> Whistle:
    """吹哨: the street or community holding the ticket summons departments to report."""
    assert who.unit_id is not None
    ticket = await session.get(RoutedTicket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' is not known to routing.", field="ticket_id")
    unit = await session.get(Unit, who.unit_id)
    if unit is None or unit.kind not in WHISTLERS:
        raise Forbidden("Only a street office or a community blows the whistle.")
    holding = await session.scalar(
        select(Assignment.id).where(
            Assignment.ticket_id == ticket_id,
            Assignment.unit_id == unit.id,
            Assignment.status.not_in(domain.ENDED | {AssignmentStatus.RETURN_REQUESTED}),
        )
    )
    if holding is None:
        raise Forbidden("Your unit holds no open assignment on this ticket.")
    if len(set(body.department_ids)) != len(body.department_ids):
        raise InvalidInput("department_ids: a department is named twice.", field="department_ids")
    for department in body.department_ids:
        if department == unit.id:
            raise InvalidInput(
                "department_ids: a unit does not summon itself.", field="department_ids"
            )
        await active_unit(session, department, "department_ids")
    whistle = Whistle(
        id=new_id("W"),
        ticket_id=ticket_id,
        unit_id=unit.id,
        reason=body.reason,
        blown_at=now,
        respond_by=now + timedelta(hours=body.hours),
    )
    session.add(whistle)
    await session.flush()
    for department in body.department_ids:
        session.add(WhistleSummons(whistle_id=whistle.id, unit_id=department))
    await outbox.emit(
        session,
        WhistleBlown(
            whistle_id=whistle.id,
            unit_id=unit.id,
            department_ids=list(body.department_ids),
            respond_by=whistle.respond_by,
        ),
        ticket_id=ticket_id,
        occurred_at=now,
    )
    return whistle


async def get_whistle(
    session: AsyncSession, whistle_id: str, who: Principal
) -> tuple[Whistle, list[WhistleSummons]]:
    whistle = await session.get(Whistle, whistle_id)
    if whistle is None:
        raise NotFound(f"Whistle '{whistle_id}' does not exist.", field="whistle_id")
    summons = list(
        (
            await session.scalars(
                select(WhistleSummons)
                .where(WhistleSummons.whistle_id == whistle_id)
                .order_by(WhistleSummons.unit_id)
            )
        ).all()
    )
    if (
        who.role is Role.UNIT
        and who.unit_id != whistle.unit_id
        and all(s.unit_id != who.unit_id for s in summons)
    ):
        raise Forbidden("Your unit neither blew this whistle nor was summoned.")
    return whistle, summons


async def report(
    session: AsyncSession, whistle_id: str, body: WhistleReportIn, *, who: Principal, now: datetime
) -> tuple[Whistle, list[WhistleSummons]]:
    """报到: a summoned department reports; after the limit it is recorded as late."""
    whistle, summons = await get_whistle(session, whistle_id, who)
    mine = next((s for s in summons if s.unit_id == who.unit_id), None)
    if mine is None:
        raise Forbidden("Your unit was not summoned by this whistle.")
    if mine.reported_at is not None:
        raise Conflict(
            "Your unit has already reported to this whistle.",
            status_now="reported",
            allowed_actions=[],
        )
    mine.reported_at, mine.report = now, body.report
    mine.late = domain.report_is_late(now, whistle.respond_by)
    await outbox.emit(
        session,
        WhistleReported(
            whistle_id=whistle.id,
            unit_id=mine.unit_id,
            respond_by=whistle.respond_by,
            late=mine.late,
        ),
        ticket_id=whistle.ticket_id,
        occurred_at=now,
    )
    return whistle, summons


async def list_whistles(
    session: AsyncSession, who: Principal, ticket_id: str | None
) -> list[tuple[Whistle, list[WhistleSummons]]]:
    """The centre sees every whistle; a unit those it blew or was summoned by."""
    query = select(Whistle).order_by(Whistle.blown_at, Whistle.id)
    if ticket_id:
        query = query.where(Whistle.ticket_id == ticket_id)
    if who.role is Role.UNIT:
        summoned = select(WhistleSummons.whistle_id).where(WhistleSummons.unit_id == who.unit_id)
        query = query.where(or_(Whistle.unit_id == who.unit_id, Whistle.id.in_(summoned)))
    whistles = (await session.scalars(query)).all()
    result = []
    for w in whistles:
        summons = (
            await session.scalars(
                select(WhistleSummons)
                .where(WhistleSummons.whistle_id == w.id)
                .order_by(WhistleSummons.unit_id)
            )
        ).all()
        result.append((w, list(summons)))
    return result
