"""Supervision cases (督办) as use cases: opening them (a cluster from intake, an overdue ticket,
a re-dispatched ticket, repeated complaints against a unit), restarting their wait on activity,
raising their level when the wait runs out (the scheduled job), resolving them, and the lists.
The rules are sla/supervision.py's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.calendar import WorkingCalendar
from shared.clock import Clock, aware
from shared.errors import Conflict, NotFound
from shared.events.sla import TicketSupervised
from sla import supervision
from sla.config import settings
from sla.domain import CaseStatus
from sla.models import DeadlineClock, SlaTicket, SupervisionCase, outbox
from sla.stored import load_calendar


@dataclass(frozen=True)
class Opening:
    """What a supervision case (督办) is opened for: a ticket and a reason, where for a cluster
    (集中诉求) or a unit's repeated complaints (重复投诉) the `matter` says which case is the
    same one."""

    ticket_id: str
    reason: str
    at: datetime
    unit_id: str | None = None
    area_code: str | None = None
    matter: str | None = None
    related: Sequence[str] | None = None


def open_among(
    cases: list[SupervisionCase], calendar: WorkingCalendar, opening: Opening
) -> SupervisionCase | None:
    """The case (督办) `opening` opens, unless the same one (`same_case`) is among the open
    `cases`, read once for a run of openings; a new case joins them, so it is not opened twice."""
    if any(same_case(c, opening) for c in cases):
        return None
    case = new_case(calendar, opening)
    cases.append(case)
    return case


def new_case(calendar: WorkingCalendar, opening: Opening) -> SupervisionCase:
    """A supervision case (督办) opened at `platform` (平台督办), waiting from its opening."""
    level, at = supervision.LEVELS[0], opening.at
    return SupervisionCase(
        id=f"S{uuid.uuid4().hex[:16].upper()}",
        ticket_id=opening.ticket_id,
        reason=opening.reason,
        level=level,
        status=CaseStatus.OPEN,
        unit_id=opening.unit_id,
        area_code=opening.area_code,
        matter=opening.matter,
        related=json.dumps(list(opening.related or [opening.ticket_id])),
        opened_at=at,
        last_activity_at=at,
        next_escalation_at=supervision.escalation_due(at, level, calendar, _waits()),
    )


def same_case(case: SupervisionCase, opening: Opening) -> bool:
    """Whether an open supervision case (督办) is the one `opening` would open: the same ticket
    and reason, or for a cluster the same matter, for a unit's repeated complaints the same
    matter and unit."""
    if case.status != CaseStatus.OPEN or case.reason != opening.reason:
        return False
    if opening.reason == "cluster":
        return case.matter == opening.matter
    if opening.reason == "unit_complaints":
        return case.matter == opening.matter and case.unit_id == opening.unit_id
    return case.ticket_id == opening.ticket_id


def _waits() -> dict[str, int]:
    """Working days each level waits, from the settings (SLA_SUPERVISION_*_DAYS)."""
    s = settings()
    return {
        "platform": s.supervision_platform_days,
        "phone": s.supervision_phone_days,
        "on_site": s.supervision_on_site_days,
    }


def supervised(case: SupervisionCase, previous: str | None) -> TicketSupervised:
    """`sla.ticket_supervised`: the case opened (`previous` None) or raised from `previous`."""
    return TicketSupervised(
        case_id=case.id,
        reason=case.reason,  # type: ignore[arg-type]
        level=case.level,  # type: ignore[arg-type]
        previous_level=previous,  # type: ignore[arg-type]
        unit_id=case.unit_id,
        related_ticket_ids=json.loads(case.related),
    )


async def emit_supervised(
    session: AsyncSession, case: SupervisionCase, previous: str | None, at: datetime
) -> None:
    await outbox.emit(session, supervised(case, previous), ticket_id=case.ticket_id, occurred_at=at)


async def complaints_against(
    session: AsyncSession, ticket: SlaTicket, unit_id: str, at: datetime
) -> list[str]:
    """Up to `UNIT_COMPLAINTS` tickets of the ticket's matter led by `unit_id` as complaints
    within the window (重复投诉), this one included once its clock is written."""
    since = at - timedelta(days=settings().cluster_window_days)
    ids = await session.scalars(
        select(DeadlineClock.ticket_id)
        .where(
            DeadlineClock.scope == "assignment",
            DeadlineClock.role == "lead",
            DeadlineClock.unit_id == unit_id,
            DeadlineClock.kind == "complaint",
            DeadlineClock.category == ticket.category,
            DeadlineClock.area_code == ticket.area_code,
            DeadlineClock.started_at >= since,
        )
        .distinct()
        .limit(supervision.UNIT_COMPLAINTS)
    )
    return sorted(ids.all())


async def touch_cases(session: AsyncSession, ticket_id: str, at: datetime) -> None:
    """Something happened on the ticket: its open cases wait again from now at their level."""
    cases = (
        await session.scalars(
            select(SupervisionCase).where(
                SupervisionCase.ticket_id == ticket_id, SupervisionCase.status == CaseStatus.OPEN
            )
        )
    ).all()
    if not cases:
        return
    calendar = await load_calendar(session)
    for case in cases:
        rewait(case, at, calendar)


def rewait(case: SupervisionCase, at: datetime, calendar: WorkingCalendar) -> None:
    """Activity at `at`: the case waits again from then at its level (never from earlier)."""
    if aware(case.last_activity_at) < at:
        case.last_activity_at = at
        case.next_escalation_at = supervision.escalation_due(at, case.level, calendar, _waits())


async def resolve_cases(
    session: AsyncSession,
    ticket_id: str,
    at: datetime,
    why: str,
    reasons: Sequence[str] | None = None,
) -> None:
    """The ticket's open cases (of `reasons`, or all) are answered."""
    query = select(SupervisionCase).where(
        SupervisionCase.ticket_id == ticket_id, SupervisionCase.status == CaseStatus.OPEN
    )
    if reasons:
        query = query.where(SupervisionCase.reason.in_(reasons))
    for case in (await session.scalars(query)).all():
        case.status, case.resolved_at, case.resolution, case.next_escalation_at = (
            CaseStatus.RESOLVED,
            at,
            why,
            None,
        )


async def escalate_supervision(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Raise every open case whose wait ran out, one level per wait (a clock jump over several
    waits raises several levels, each once). Returns the escalations."""
    raised = 0
    batch = settings().timer_batch_size
    now = clock.now()
    while True:
        async with sessionmaker() as session, session.begin():
            cases = (
                await session.scalars(
                    select(SupervisionCase)
                    .where(
                        SupervisionCase.status == CaseStatus.OPEN,
                        SupervisionCase.next_escalation_at <= now,
                    )
                    .order_by(SupervisionCase.next_escalation_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            calendar = await load_calendar(session) if cases else None
            for case in cases:
                assert calendar is not None
                while case.next_escalation_at is not None and aware(case.next_escalation_at) <= now:
                    due = aware(case.next_escalation_at)
                    previous, level = case.level, supervision.next_level(case.level)
                    assert level is not None
                    case.level, case.escalated_at = level, due
                    case.next_escalation_at = supervision.escalation_due(
                        due, level, calendar, _waits()
                    )
                    await emit_supervised(session, case, previous, due)
                    raised += 1
        if len(cases) < batch:
            return raised


async def resolve_case(
    session: AsyncSession, case_id: str, note: str, now: datetime
) -> SupervisionCase:
    """A supervisor resolves a case by hand."""
    case = await get_case(session, case_id)
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"case {case_id} is already {case.status}", allowed_actions=[])
    case.status, case.resolved_at, case.resolution, case.next_escalation_at = (
        CaseStatus.RESOLVED,
        now,
        note,
        None,
    )
    return case


async def get_case(session: AsyncSession, case_id: str) -> SupervisionCase:
    case = await session.get(SupervisionCase, case_id)
    if case is None:
        raise NotFound(f"no supervision case {case_id}", field="case_id")
    return case


async def list_cases(
    session: AsyncSession,
    *,
    status: str | None,
    level: str | None,
    reason: str | None,
    unit_id: str | None,
    area_code: str | None,
) -> Sequence[SupervisionCase]:
    query = select(SupervisionCase).order_by(SupervisionCase.opened_at)
    for column, value in (
        (SupervisionCase.status, status),
        (SupervisionCase.level, level),
        (SupervisionCase.reason, reason),
        (SupervisionCase.unit_id, unit_id),
    ):
        if value:
            query = query.where(column == value)
    if area_code:
        query = query.where(SupervisionCase.area_code.startswith(area_code))
    return (await session.scalars(query)).all()
