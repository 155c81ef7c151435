"""sla's use cases: clocks driven by lifecycle events, the timer engine, recomputation on calendar
and policy changes, extensions and supervision cases. Load → decide with domain.py → write →
add events to the outbox."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import calendar as cal
from shared.auth import Principal, Role
from shared.clock import Clock as TimeSource
from shared.clock import aware
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import Envelope
from shared.events.callback import TicketReopened
from shared.events.intake import ClusterFlagged, ClusterFlaggedV1, TicketReceived
from shared.events.routing import ExtensionRequested, TicketDispatched
from shared.events.sla import (
    CALENDAR_KEY,
    CalendarChanged,
    ClockStarted,
    ExtensionDecided,
    SlaBreached,
    SlaReminder,
    TicketSupervised,
)
from shared.stamped import Stamped
from sla import domain, policies, supervision
from sla.config import settings
from sla.models import (
    CalendarDay,
    CalendarSetting,
    CalendarYear,
    Clock,
    ClockHistory,
    Extension,
    PolicyVersion,
    SlaTicket,
    SupervisionCase,
    Timer,
    outbox,
    stamps,
)
from sla.policies import Limit, Policy, Reminder, Subject

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------- loading


async def _stored_calendar(session: AsyncSession) -> cal.WorkingCalendar:
    """The working calendar as stored: loaded years, overrides and working hours."""
    years = (await session.scalars(select(CalendarYear.year))).all()
    schedules: dict[int, dict[date, bool]] = {y: {} for y in years}
    overrides: dict[date, bool] = {}
    for d in (await session.scalars(select(CalendarDay))).all():
        if d.source == "override":
            overrides[d.day] = d.working
        elif d.day.year in schedules:
            schedules[d.day.year][d.day] = d.working
    hours = cal.DEFAULT_WORKING_HOURS
    setting = await session.get(CalendarSetting, "working_hours")
    if setting is not None:
        hours = tuple(
            (time.fromisoformat(a), time.fromisoformat(b)) for a, b in json.loads(setting.value)
        )
    return cal.WorkingCalendar(overrides=overrides, schedules=schedules, hours=hours)


# Every event sla handles reads the calendar, which changes rarely (load_year, override_day,
# remove_override, set_working_hours); any flush that writes it marks it changed.
_calendar = Stamped(stamps, "calendar", _stored_calendar)
_calendar.watch(CalendarDay, CalendarYear, CalendarSetting)
load_calendar = _calendar.get


def policy_of(row: PolicyVersion) -> Policy:
    return Policy(
        code=row.code,
        version=row.version,
        name=row.name,
        sign=Limit(row.sign_amount, row.sign_unit),  # type: ignore[arg-type]
        response=Limit(row.response_amount, row.response_unit),  # type: ignore[arg-type]
        completion=Limit(row.completion_amount, row.completion_unit),  # type: ignore[arg-type]
        urgency=row.urgency,
        kind=row.kind,
        category=row.category,
        unit_class=row.unit_class,
        reminders=tuple(Reminder(**r) for r in json.loads(row.reminders)),
        effective_from=aware(row.effective_from),
        retired=row.retired,
    )


async def load_policies(session: AsyncSession) -> list[Policy]:
    return [policy_of(r) for r in (await session.scalars(select(PolicyVersion))).all()]


def _subject(clock: Clock) -> Subject:
    return Subject(
        kind=clock.kind,
        urgency=clock.urgency,
        category=clock.category,
        unit_class=clock.unit_class if clock.scope == "assignment" else None,
    )


def _stages(clock: Clock) -> tuple[str, ...]:
    return domain.ASSIGNMENT_STAGES if clock.scope == "assignment" else domain.TICKET_STAGES


def _history(
    session: AsyncSession, clock: Clock, at: datetime, what: str, detail: str = ""
) -> None:
    session.add(
        ClockHistory(
            ticket_id=clock.ticket_id, clock_id=clock.id, at=at, what=what, detail=detail[:255]
        )
    )


async def _add_timers(
    session: AsyncSession, clock: Clock, planned: Sequence[domain.PlannedTimer], generation: int
) -> None:
    """Arm a clock's timers: one statement for all of them (as ORM objects each needed its own
    INSERT … RETURNING, about fourteen per ticket)."""
    if not planned:
        return
    await session.execute(
        insert(Timer),
        [
            {
                "clock_id": clock.id,
                "stage": p.stage,
                "kind": p.kind,
                "threshold": p.threshold,
                "due_at": p.due_at,
                "deadline_at": p.deadline_at,
                "state": "armed",
                "generation": generation,
            }
            for p in planned
        ],
    )


async def _timers(session: AsyncSession, clock_id: str) -> list[Timer]:
    return list(
        (
            await session.scalars(
                select(Timer).where(Timer.clock_id == clock_id).order_by(Timer.id)
            )
        ).all()
    )


def _deadlines(timers: Sequence[Timer]) -> dict[str, datetime]:
    return {t.stage: aware(t.due_at) for t in timers if t.kind == "deadline"}


async def _emit_deadlines(
    session: AsyncSession,
    clock: Clock,
    timers: Sequence[Timer],
    at: datetime,
    reason: str,
    correlation_id: str | None = None,
) -> None:
    if clock.scope != "assignment":
        return
    due = _deadlines(timers)
    await outbox.emit(
        session,
        ClockStarted(
            clock_id=clock.id,
            assignment_id=clock.assignment_id,
            unit_id=clock.unit_id,
            policy=clock.policy,
            sign_by=due["sign"],
            respond_by=due["response"],
            complete_by=due["completion"],
            round=clock.round,
            reason=reason,  # type: ignore[arg-type]
        ),
        ticket_id=clock.ticket_id,
        occurred_at=at,
        correlation_id=correlation_id,
    )


# ---------------------------------------------------------------------------- event handlers


async def on_received(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.received`: remember what policies and supervision need."""
    data = cast(TicketReceived, event.data())
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:
        ticket = SlaTicket(id=event.ticket_id, dispatch_count=0, round=1)
        session.add(ticket)
    ticket.kind, ticket.category, ticket.urgency = data.kind, data.category, data.urgency
    ticket.area_code, ticket.citizen_ref = data.area_code, data.citizen_ref
    ticket.received_at = data.received_at
    ticket.status = "answered" if data.answered else "open"


async def on_cluster_flagged(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.cluster_flagged`: a cluster (集中诉求) is supervised from the report that forms
    it. intake alone decides what a cluster is (same matter by text and place, different
    people); sla opens one case per cluster and lets the later reports join it quietly."""
    data = event.data()
    assert isinstance(data, ClusterFlagged | ClusterFlaggedV1)
    # v1 (older logs) listed every member; v2 lists who joined with this event.
    joined = data.joined_ticket_ids if isinstance(data, ClusterFlagged) else data.ticket_ids
    await open_case(
        session,
        ticket_id=event.ticket_id,
        reason="cluster",
        at=event.occurred_at,
        matter=data.cluster_id,
        area_code=data.area_code,
        related=sorted(joined),
    )


async def _ticket_for_dispatch(
    session: AsyncSession, event: Envelope, data: TicketDispatched
) -> SlaTicket:
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:  # received before sla kept tickets: what the dispatch tells us
        ticket = SlaTicket(
            id=event.ticket_id,
            kind=data.kind,
            category="",
            urgency=data.urgency,
            area_code=None,
            received_at=event.occurred_at,
            status="open",
            round=data.round,
            dispatch_count=0,
        )
        session.add(ticket)
    ticket.dispatch_count = max(ticket.dispatch_count or 0, data.dispatch_count)
    ticket.round = max(ticket.round or 1, data.round)
    ticket.status = "open"
    return ticket


async def arm_clock(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.dispatched`: a fresh clock for the assignment; for the lead, the round's
    ticket clock starts (or, after a re-dispatch, keeps running with the new lead)."""
    data = cast(TicketDispatched, event.data())
    clock_id = f"K{data.assignment_id}"
    if await session.get(Clock, clock_id) is not None:
        return
    ticket = await _ticket_for_dispatch(session, event, data)
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    start = event.occurred_at
    # routing decides a unit's class (单位类别); sla takes it from the event and never guesses.
    unit_class = data.unit_class
    subject = Subject(data.kind, data.urgency, ticket.category, unit_class)
    policy = policies.policy_for(subject, versions, start)
    clock = Clock(
        id=clock_id,
        ticket_id=event.ticket_id,
        assignment_id=data.assignment_id,
        unit_id=data.unit_id,
        policy=policy.label,
        started_at=start,
        scope="assignment",
        round=data.round,
        role=data.role,
        status="open",
        kind=data.kind,
        urgency=data.urgency,
        category=ticket.category,
        area_code=ticket.area_code,
        unit_class=unit_class,
        extension_days=0,
        extension_count=0,
        time_zone="Asia/Shanghai",
    )
    session.add(clock)
    planned = domain.plan(start, policy, domain.ASSIGNMENT_STAGES, 0, calendar)
    await _add_timers(session, clock, planned, 0)
    _history(session, clock, start, "started", f"{data.unit_name} ({data.role}), {policy.label}")
    await session.flush()
    await _emit_deadlines(
        session, clock, await _timers(session, clock.id), start, "dispatched", event.correlation_id
    )

    if data.role == "lead":
        await _lead_dispatched(session, ticket, clock, data, calendar, versions, start)
    if supervision.is_redispatched(data.dispatch_count):
        await open_case(
            session,
            ticket_id=event.ticket_id,
            reason="redispatched",
            at=start,
            unit_id=data.unit_id,
            area_code=ticket.area_code,
        )
    if data.role == "lead" and data.kind == "complaint" and ticket.category:
        await _check_unit_complaints(session, ticket, data.unit_id, start)
    await touch_cases(session, event.ticket_id, start)


async def _lead_dispatched(
    session: AsyncSession,
    ticket: SlaTicket,
    lead: Clock,
    data: TicketDispatched,
    calendar: cal.WorkingCalendar,
    versions: list[Policy],
    start: datetime,
) -> None:
    # Re-dispatch (改派): the previous lead of the round stops; the new one got a fresh clock.
    previous = (
        await session.scalars(
            select(Clock).where(
                Clock.ticket_id == ticket.id,
                Clock.scope == "assignment",
                Clock.role == "lead",
                Clock.round == data.round,
                Clock.status == "open",
                Clock.id != lead.id,
            )
        )
    ).all()
    for old in previous:
        await _stop_clock(session, old, start, "redispatched")
    ticket_clock = await session.get(Clock, f"T{ticket.id}-R{data.round}")
    if ticket_clock is None:
        await _start_ticket_clock(session, ticket, data.round, start, lead, calendar, versions)
    elif ticket_clock.status == "open":
        ticket_clock.assignment_id, ticket_clock.unit_id = lead.assignment_id, lead.unit_id
        _history(
            session,
            ticket_clock,
            start,
            "lead_changed",
            f"new lead {lead.unit_id}; clock keeps running",
        )


async def _start_ticket_clock(
    session: AsyncSession,
    ticket: SlaTicket,
    round_: int,
    start: datetime,
    lead: Clock | None,
    calendar: cal.WorkingCalendar,
    versions: list[Policy],
) -> Clock:
    subject = Subject(ticket.kind, ticket.urgency, ticket.category)
    policy = policies.policy_for(subject, versions, start)
    clock = Clock(
        id=f"T{ticket.id}-R{round_}",
        ticket_id=ticket.id,
        assignment_id=lead.assignment_id if lead else "",
        unit_id=lead.unit_id if lead else "",
        policy=policy.label,
        started_at=start,
        scope="ticket",
        round=round_,
        role="lead",
        status="open",
        kind=ticket.kind,
        urgency=ticket.urgency,
        category=ticket.category,
        area_code=ticket.area_code,
        unit_class=None,
        extension_days=0,
        extension_count=0,
        time_zone="Asia/Shanghai",
    )
    session.add(clock)
    planned = domain.plan(start, policy, domain.TICKET_STAGES, 0, calendar, reminders=False)
    await _add_timers(session, clock, planned, 0)
    _history(session, clock, start, "started", f"round {round_}, {policy.label}")
    await session.flush()
    return clock


async def _stop_timers(
    session: AsyncSession, clock_id: str, at: datetime, stages: Sequence[str] | None = None
) -> None:
    """Stop the armed timers of a clock's stages and record a late finish on fired deadlines.
    Single conditional statements, so a concurrent firer and a stop never both win."""
    armed = update(Timer).where(Timer.clock_id == clock_id, Timer.state == "armed")
    late = update(Timer).where(
        Timer.clock_id == clock_id,
        Timer.state == "fired",
        Timer.kind == "deadline",
        Timer.stopped_at.is_(None),
    )
    if stages is not None:
        armed = armed.where(Timer.stage.in_(stages))
        late = late.where(Timer.stage.in_(stages))
    options = {"synchronize_session": False}
    await session.execute(armed.values(state="stopped", stopped_at=at).execution_options(**options))
    await session.execute(late.values(stopped_at=at).execution_options(**options))


async def _stop_clock(session: AsyncSession, clock: Clock, at: datetime, status: str) -> None:
    """Stop every open timer of a clock (returned, re-dispatched, closed); fired stay fired."""
    await _stop_timers(session, clock.id, at)
    clock.status, clock.closed_at = status, at
    _history(session, clock, at, status)


async def stop_stage(session: AsyncSession, event: Envelope) -> None:
    """On the unit's sign / contact / reply: those stages' deadlines are met (or were breached:
    the finish is recorded on the fired deadline)."""
    stages = domain.STAGES_STOPPED_BY[event.type]
    clock = await session.get(Clock, f"K{event.payload['assignment_id']}")
    if clock is None:
        log.warning("sla: %s for unknown assignment %s", event.type, event.payload["assignment_id"])
        return
    at = event.occurred_at
    await _stop_timers(session, clock.id, at, stages)
    _history(session, clock, at, "stopped", ", ".join(stages))
    if "completion" in stages and clock.status == "open":
        clock.status, clock.closed_at = "done", at
    await touch_cases(session, clock.ticket_id, at)


async def on_ticket_replied(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.replied`: the round's ticket clock stops; overdue and re-dispatch cases are
    answered."""
    round_ = int(event.payload.get("round", 1))
    clock = await session.get(Clock, f"T{event.ticket_id}-R{round_}")
    if clock is not None and clock.status == "open":
        await _stop_timers(session, clock.id, event.occurred_at)
        clock.status, clock.closed_at = "done", event.occurred_at
        _history(session, clock, event.occurred_at, "stopped", "completion (ticket replied)")
    await resolve_cases(
        session, event.ticket_id, event.occurred_at, "ticket replied", ("overdue", "redispatched")
    )


async def on_returned(session: AsyncSession, event: Envelope) -> None:
    """On `assignment.returned` (退单): the unit's clock stops; the ticket's keeps running."""
    clock = await session.get(Clock, f"K{event.payload['assignment_id']}")
    if clock is not None and clock.status == "open":
        await _stop_clock(session, clock, event.occurred_at, "returned")


async def on_withdrawn(session: AsyncSession, event: Envelope) -> None:
    """On `assignment.withdrawn` (re-dispatch, forwarding, joint determination, an assisting
    unit timed out): the assignment's clock stops; the ticket's keeps running."""
    clock = await session.get(Clock, f"K{event.payload['assignment_id']}")
    if clock is not None and clock.status == "open":
        await _stop_clock(session, clock, event.occurred_at, "withdrawn")


async def on_reopened(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.reopened` (重办): a new round and its ticket clock; older rounds' clocks stop."""
    data = cast(TicketReopened, event.data())
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:
        log.warning("sla: ticket.reopened for unknown ticket %s", event.ticket_id)
        return
    ticket.round, ticket.status = max(ticket.round, data.round), "open"
    at = event.occurred_at
    older = (
        await session.scalars(
            select(Clock).where(
                Clock.ticket_id == ticket.id, Clock.status == "open", Clock.round < data.round
            )
        )
    ).all()
    for c in older:
        await _stop_clock(session, c, at, "closed")
    if await session.get(Clock, f"T{ticket.id}-R{data.round}") is None:
        calendar = await load_calendar(session)
        versions = await load_policies(session)
        clock = await _start_ticket_clock(session, ticket, data.round, at, None, calendar, versions)
        clock.unit_id = data.lead_unit_id or ""


async def on_closed(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.closed`: every clock of the ticket stops; its cases are resolved."""
    at = event.occurred_at
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is not None:
        ticket.status, ticket.closed_at = "closed", at
    for c in (
        await session.scalars(
            select(Clock).where(Clock.ticket_id == event.ticket_id, Clock.status == "open")
        )
    ).all():
        await _stop_clock(session, c, at, "closed")
    pending = (
        await session.scalars(
            select(Extension).where(
                Extension.ticket_id == event.ticket_id, Extension.status == "pending"
            )
        )
    ).all()
    for e in pending:
        e.status, e.decided_at = "lapsed", at
    await resolve_cases(session, event.ticket_id, at, "ticket closed")


async def on_extension_requested(session: AsyncSession, event: Envelope) -> None:
    """On `assignment.extension_requested` (延期申请): a pending request for the centre."""
    data = cast(ExtensionRequested, event.data())
    if await session.get(Extension, data.request_id) is not None:
        return
    session.add(
        Extension(
            id=data.request_id,
            ticket_id=event.ticket_id,
            assignment_id=data.assignment_id,
            unit_id=data.unit_id,
            requested_days=data.requested_days,
            reason=data.reason,
            requested_at=event.occurred_at,
            status="pending",
            days=0,
        )
    )
    await touch_cases(session, event.ticket_id, event.occurred_at)


# ------------------------------------------------------------------------------ timer engine


async def fire_due_timers(sessionmaker: async_sessionmaker[AsyncSession], clock: TimeSource) -> int:
    """Fire every armed timer that is due, in batches: `sla.reminder` or `sla.breached`, each
    once, written with its state change in one transaction. Returns the events emitted.

    The query reads only due rows through the (state, due_at) index, so a tick costs what is
    due, not what is open. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets replicas share the work.
    A restart or a clock jump forward finds the rows still armed; a reminder whose deadline has
    already passed is skipped (the breach says it).
    """
    emitted = 0
    batch = settings().timer_batch_size
    now = clock.now()
    while True:
        async with sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(Timer, Clock)
                    .join(Clock, Clock.id == Timer.clock_id)
                    .where(Timer.state == "armed", Timer.due_at <= now)
                    .order_by(Timer.due_at, Timer.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True, of=Timer)
                )
            ).all()
            for timer, owner in rows:
                emitted += await _fire(session, timer, owner, now)
        if len(rows) < batch:
            return emitted


async def _claim(session: AsyncSession, timer: Timer, state: str, now: datetime) -> bool:
    """Move an armed timer to `state`; False if someone else (another replica, a stop) did
    first. The conditional update is what makes firing exactly-once on every database."""
    result = await session.execute(
        update(Timer)
        .where(Timer.id == timer.id, Timer.state == "armed")
        .values(state=state, fired_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _fire(session: AsyncSession, timer: Timer, owner: Clock, now: datetime) -> int:
    deadline_at = aware(timer.deadline_at or timer.due_at)
    if timer.kind == "reminder":
        if deadline_at <= now:
            await _claim(session, timer, "skipped", now)
            return 0
        if not await _claim(session, timer, "fired", now):
            return 0
        await outbox.emit(
            session,
            SlaReminder(
                clock_id=owner.id,
                assignment_id=owner.assignment_id,
                unit_id=owner.unit_id,
                stage=timer.stage,  # type: ignore[arg-type]
                threshold=timer.threshold,
                due_at=deadline_at,
                round=owner.round,
            ),
            ticket_id=owner.ticket_id,
            occurred_at=now,
        )
        _history(session, owner, now, "reminded", f"{timer.stage} {timer.threshold}")
        return 1
    if not await _claim(session, timer, "fired", now):
        return 0
    await outbox.emit(
        session,
        SlaBreached(
            clock_id=owner.id,
            assignment_id=owner.assignment_id,
            unit_id=owner.unit_id,
            stage=timer.stage,  # type: ignore[arg-type]
            due_at=aware(timer.due_at),
            scope=owner.scope,  # type: ignore[arg-type]
            round=owner.round,
        ),
        ticket_id=owner.ticket_id,
        occurred_at=now,
    )
    _history(session, owner, now, "breached", timer.stage)
    if owner.scope == "ticket":
        await open_case(
            session,
            ticket_id=owner.ticket_id,
            reason="overdue",
            at=aware(timer.due_at),
            unit_id=owner.unit_id or None,
            area_code=owner.area_code,
        )
    return 1


# ------------------------------------------------------------------------------ recompute


async def recompute_open_clocks(session: AsyncSession, at: datetime) -> int:
    """After a calendar or policy change: every open clock's running stages get deadlines and
    reminders from the calendar and the policy in force when the clock started. Stopped and
    fired timers, and clocks that are no longer open, are never touched. Returns the clocks
    whose deadlines moved."""
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    clocks = (await session.scalars(select(Clock).where(Clock.status == "open"))).all()
    by_clock: dict[str, list[Timer]] = {c.id: [] for c in clocks}
    if clocks:
        timers = (
            await session.scalars(
                select(Timer)
                .join(Clock, Clock.id == Timer.clock_id)
                .where(Clock.status == "open")
                .order_by(Timer.id)
            )
        ).all()
        for t in timers:
            by_clock[t.clock_id].append(t)
    moved = 0
    for clock in clocks:
        if await _recompute(session, clock, by_clock[clock.id], calendar, versions, at):
            moved += 1
    return moved


async def _recompute(
    session: AsyncSession,
    clock: Clock,
    timers: list[Timer],
    calendar: cal.WorkingCalendar,
    versions: list[Policy],
    at: datetime,
) -> bool:
    start = aware(clock.started_at)
    policy = policies.policy_for(_subject(clock), versions, start)
    planned = domain.plan(
        start,
        policy,
        _stages(clock),
        clock.extension_days,
        calendar,
        reminders=clock.scope == "assignment",
    )
    changed = policy.label != clock.policy
    clock.policy = policy.label
    for stage in _stages(clock):
        deadline = next(t for t in timers if t.stage == stage and t.kind == "deadline")
        if deadline.state != "armed":
            continue  # met or breached: history, not to be rewritten
        new = next(p for p in planned if p.stage == stage and p.kind == "deadline")
        if aware(deadline.due_at) != new.due_at:
            deadline.due_at = deadline.deadline_at = new.due_at
            changed = True
        fired = {
            t.threshold
            for t in timers
            if t.stage == stage
            and t.kind == "reminder"
            and t.state != "armed"
            and t.generation == clock.extension_count
        }
        old = {
            (t.threshold, aware(t.due_at))
            for t in timers
            if t.stage == stage and t.kind == "reminder" and t.state == "armed"
        }
        fresh = [
            p
            for p in planned
            if p.stage == stage and p.kind == "reminder" and p.threshold not in fired
        ]
        if old != {(p.threshold, p.due_at) for p in fresh}:
            for t in timers:
                if t.stage == stage and t.kind == "reminder" and t.state == "armed":
                    await session.delete(t)
            await _add_timers(session, clock, fresh, clock.extension_count)
    if changed:
        _history(session, clock, at, "recomputed", policy.label)
        await session.flush()
        await _emit_deadlines(session, clock, await _timers(session, clock.id), at, "recomputed")
    return changed


# ------------------------------------------------------------------------------ calendar


@dataclass(frozen=True)
class YearView:
    year: int
    source: str  # loaded, package, weekdays
    holidays: list[date]  # weekdays that are not working days
    make_up_days: list[date]  # weekend days that are working days (调休)
    overrides: list[tuple[date, bool, str]]
    working_hours: tuple[cal.Period, ...]


def _check_year(year: int) -> None:
    if not cal.FIRST_YEAR <= year <= cal.LAST_YEAR:
        raise InvalidInput(
            f"year must be between {cal.FIRST_YEAR} and {cal.LAST_YEAR}", field="year"
        )


async def calendar_year(session: AsyncSession, year: int) -> YearView:
    _check_year(year)
    calendar = await load_calendar(session)
    plain = cal.WorkingCalendar(schedules=calendar.schedules)  # without single-day overrides
    day, holidays, make_up = date(year, 1, 1), [], []
    while day.year == year:
        working = plain.is_working_day(day)
        if not working and day.weekday() < 5:
            holidays.append(day)
        elif working and day.weekday() >= 5:
            make_up.append(day)
        day += cal.DAY
    overrides = (
        await session.scalars(
            select(CalendarDay)
            .where(
                CalendarDay.source == "override",
                CalendarDay.day >= date(year, 1, 1),
                CalendarDay.day <= date(year, 12, 31),
            )
            .order_by(CalendarDay.day)
        )
    ).all()
    source = (
        "loaded"
        if year in calendar.schedules
        else "package"
        if year in cal.package_years()
        else "weekdays"
    )
    return YearView(
        year,
        source,
        holidays,
        make_up,
        [(o.day, o.working, o.note) for o in overrides],
        calendar.hours,
    )


async def _publish_calendar(session: AsyncSession, now: datetime) -> None:
    """Add `calendar.changed` with the whole calendar as it now stands to the outbox, in the
    change's transaction: sla owns the calendar (工作日历) and analytics counts handling times
    with the copy it learns from this event. Call it after the change is flushed, so the
    calendar read here is the new one."""
    calendar = await load_calendar(session)
    await outbox.emit(
        session,
        CalendarChanged(
            overrides=dict(calendar.overrides),
            schedules={year: dict(days) for year, days in calendar.schedules.items()},
            working_hours=list(calendar.hours),
        ),
        ticket_id=CALENDAR_KEY,
        occurred_at=now,
    )


async def load_year(
    session: AsyncSession,
    year: int,
    holidays: list[date],
    make_up_days: list[date],
    note: str,
    now: datetime,
) -> int:
    """Load a year's official schedule (replacing a previous load); recompute open clocks."""
    try:
        schedule = cal.validate_schedule(year, holidays, make_up_days)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="holidays") from None
    await session.execute(
        delete(CalendarDay).where(
            CalendarDay.source == "schedule",
            CalendarDay.day >= date(year, 1, 1),
            CalendarDay.day <= date(year, 12, 31),
        )
    )
    row = await session.get(CalendarYear, year)
    if row is None:
        session.add(CalendarYear(year=year, note=note, loaded_at=now))
    else:
        row.note, row.loaded_at = note, now
    for d, working in schedule.items():
        session.add(
            CalendarDay(day=d, source="schedule", working=working, note=note[:128], updated_at=now)
        )
    await session.flush()
    await _publish_calendar(session, now)
    return await recompute_open_clocks(session, now)


async def override_day(
    session: AsyncSession, day: date, working: bool, note: str, now: datetime
) -> int:
    _check_year(day.year)
    row = await session.get(CalendarDay, (day, "override"))
    if row is None:
        session.add(
            CalendarDay(day=day, source="override", working=working, note=note, updated_at=now)
        )
    else:
        row.working, row.note, row.updated_at = working, note, now
    await session.flush()
    await _publish_calendar(session, now)
    return await recompute_open_clocks(session, now)


async def remove_override(session: AsyncSession, day: date, now: datetime) -> int:
    row = await session.get(CalendarDay, (day, "override"))
    if row is None:
        raise NotFound(f"no override for {day.isoformat()}", field="day")
    await session.delete(row)
    await session.flush()
    await _publish_calendar(session, now)
    return await recompute_open_clocks(session, now)


async def set_working_hours(session: AsyncSession, periods: list[cal.Period], now: datetime) -> int:
    try:
        cal.validate_working_hours(periods)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="periods") from None
    value = json.dumps(
        [[a.isoformat(timespec="minutes"), b.isoformat(timespec="minutes")] for a, b in periods]
    )
    row = await session.get(CalendarSetting, "working_hours")
    if row is None:
        session.add(CalendarSetting(key="working_hours", value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    await session.flush()
    await _publish_calendar(session, now)
    return await recompute_open_clocks(session, now)


# ------------------------------------------------------------------------------ policies


async def put_policy(
    session: AsyncSession, policy: Policy, who: Principal, now: datetime
) -> tuple[PolicyVersion, int]:
    """A new version of the policy `code` (version 1 if new); open clocks are recomputed."""
    policies.validate(policy)
    existing = await load_policies(session)
    policies.validate_versioning(policy, existing, now)
    version = max((p.version for p in existing if p.code == policy.code), default=0) + 1
    row = PolicyVersion(
        code=policy.code,
        version=version,
        name=policy.name,
        urgency=policy.urgency,
        kind=policy.kind,
        category=policy.category,
        unit_class=policy.unit_class,
        sign_amount=policy.sign.amount,
        sign_unit=policy.sign.unit,
        response_amount=policy.response.amount,
        response_unit=policy.response.unit,
        completion_amount=policy.completion.amount,
        completion_unit=policy.completion.unit,
        reminders=json.dumps(
            [
                {
                    k: v
                    for k, v in (("fraction", r.fraction), ("hours_before", r.hours_before))
                    if v is not None
                }
                for r in policy.reminders
            ]
        ),
        effective_from=policy.effective_from,
        retired=policy.retired,
        created_at=now,
        created_by=who.subject,
    )
    session.add(row)
    await session.flush()
    return row, await recompute_open_clocks(session, now)


async def retire_policy(
    session: AsyncSession, code: str, effective_from: datetime, who: Principal, now: datetime
) -> tuple[PolicyVersion, int]:
    versions = [p for p in await load_policies(session) if p.code == code]
    if not versions:
        raise NotFound(f"no policy {code}", field="code")
    latest = max(versions, key=lambda p: p.version)
    if latest.retired:
        raise Conflict(f"policy {code} is already retired", allowed_actions=["PUT"])
    from dataclasses import replace

    return await put_policy(
        session, replace(latest, retired=True, effective_from=effective_from), who, now
    )


async def policy_versions(
    session: AsyncSession, code: str | None = None
) -> Sequence[PolicyVersion]:
    query = select(PolicyVersion).order_by(PolicyVersion.code, PolicyVersion.version)
    if code is not None:
        query = query.where(PolicyVersion.code == code)
    return (await session.scalars(query)).all()


# ------------------------------------------------------------------------------ extensions


async def decide_extension(
    session: AsyncSession,
    request_id: str,
    *,
    approve: bool,
    days: int | None,
    note: str | None,
    who: Principal,
    now: datetime,
) -> Extension:
    """The centre approves or refuses (延期审批); an approval moves the completion deadline of
    the assignment and, for the lead, of the ticket (the citizen-facing expected time)."""
    request = await session.get(Extension, request_id)
    if request is None:
        raise NotFound(f"no extension request {request_id}", field="request_id")
    clock = await session.get(Clock, f"K{request.assignment_id}")
    if clock is None:
        raise NotFound(f"no clock for assignment {request.assignment_id}", field="request_id")
    ticket = await session.get(SlaTicket, request.ticket_id)
    timers = await _timers(session, clock.id)
    completion = next(t for t in timers if t.stage == "completion" and t.kind == "deadline")
    granted = days if days is not None else request.requested_days
    approved = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Extension.days), 0)).where(
                Extension.assignment_id == request.assignment_id, Extension.status == "approved"
            )
        )
    ).one()
    s = settings()
    domain.check_extension(
        rules=domain.ExtensionRules(
            s.extension_max_count, s.extension_max_days, s.extension_max_total_days
        ),
        approve=approve,
        days=granted,
        requested_days=request.requested_days,
        approved_before=int(approved[0]),
        days_before=int(approved[1]),
        request_status=request.status,
        clock_status="closed" if ticket is not None and ticket.status == "closed" else clock.status,
        completion_state=completion.state,
    )
    before = aware(completion.due_at)
    request.decided_at, request.decided_by, request.note = now, who.subject, note
    request.complete_by_before = before
    ticket_due: datetime | None = None
    if approve:
        calendar = await load_calendar(session)
        request.status, request.days = "approved", granted
        after = await _extend(session, clock, timers, granted, calendar, now)
        request.complete_by_after = after
        if clock.role == "lead":
            tclock = await session.get(Clock, f"T{clock.ticket_id}-R{clock.round}")
            if tclock is not None and tclock.status == "open":
                ttimers = await _timers(session, tclock.id)
                tdeadline = next(t for t in ttimers if t.kind == "deadline")
                if tdeadline.state == "armed":
                    ticket_due = await _extend(session, tclock, ttimers, granted, calendar, now)
                else:
                    ticket_due = aware(tdeadline.due_at)
        await session.flush()
        await _emit_deadlines(session, clock, await _timers(session, clock.id), now, "extended")
    else:
        request.status, request.days = "refused", 0
        request.complete_by_after = before
        if clock.role == "lead":
            tclock = await session.get(Clock, f"T{clock.ticket_id}-R{clock.round}")
            if tclock is not None:
                ticket_due = _deadlines(await _timers(session, tclock.id)).get("completion")
        _history(session, clock, now, "extension_refused", request.id)
    await outbox.emit(
        session,
        ExtensionDecided(
            request_id=request.id,
            assignment_id=request.assignment_id,
            unit_id=request.unit_id,
            approved=approve,
            days=request.days,
            complete_by=request.complete_by_after or before,
            ticket_complete_by=ticket_due,
        ),
        ticket_id=request.ticket_id,
        occurred_at=now,
    )
    await touch_cases(session, request.ticket_id, now)
    return request


async def _extend(
    session: AsyncSession,
    clock: Clock,
    timers: list[Timer],
    days: int,
    calendar: cal.WorkingCalendar,
    now: datetime,
) -> datetime:
    """Move a clock's completion deadline by `days` working days and re-arm its reminders for
    the new deadline (a new generation: each threshold may remind once more)."""
    clock.extension_days += days
    clock.extension_count += 1
    deadline = next(t for t in timers if t.stage == "completion" and t.kind == "deadline")
    new_due = domain.extend_by_working_days(aware(deadline.due_at), days, calendar)
    deadline.due_at = deadline.deadline_at = new_due
    for t in timers:
        if t.stage == "completion" and t.kind == "reminder" and t.state == "armed":
            await session.delete(t)
    if clock.scope == "assignment":
        versions = await load_policies(session)
        policy = policies.policy_for(_subject(clock), versions, aware(clock.started_at))
        start = aware(clock.started_at)
        limit = policy.completion
        fresh = []
        for r in policy.reminders:
            at = domain.remind_at(start, new_due, limit, r, calendar)
            if at is not None and at > now:
                fresh.append(domain.PlannedTimer("completion", "reminder", r.label, at, new_due))
        await _add_timers(session, clock, fresh, clock.extension_count)
    _history(session, clock, now, "extended", f"+{days} working days → {new_due.isoformat()}")
    return new_due


async def list_extensions(
    session: AsyncSession, status: str | None, unit_id: str | None
) -> Sequence[Extension]:
    query = select(Extension).order_by(Extension.requested_at)
    if status:
        query = query.where(Extension.status == status)
    if unit_id:
        query = query.where(Extension.unit_id == unit_id)
    return (await session.scalars(query)).all()


# ------------------------------------------------------------------------------ supervision


async def open_case(
    session: AsyncSession,
    *,
    ticket_id: str,
    reason: str,
    at: datetime,
    unit_id: str | None = None,
    area_code: str | None = None,
    matter: str | None = None,
    related: list[str] | None = None,
) -> SupervisionCase | None:
    """Open a case at `platform` unless one is open for the same ticket and reason (or, for a
    cluster or a unit's repeated complaints, the same matter)."""
    if await _open_case(session, reason, ticket_id=ticket_id, matter=matter, unit_id=unit_id):
        return None
    calendar = await load_calendar(session)
    level = supervision.LEVELS[0]
    case = SupervisionCase(
        id=f"S{uuid.uuid4().hex[:16].upper()}",
        ticket_id=ticket_id,
        reason=reason,
        level=level,
        status="open",
        unit_id=unit_id,
        area_code=area_code,
        matter=matter,
        related=json.dumps(related or [ticket_id]),
        opened_at=at,
        last_activity_at=at,
        next_escalation_at=supervision.escalation_due(at, level, calendar, _waits()),
    )
    session.add(case)
    await _emit_supervised(session, case, None, at)
    return case


async def _open_case(
    session: AsyncSession,
    reason: str,
    *,
    ticket_id: str | None = None,
    matter: str | None = None,
    unit_id: str | None = None,
) -> SupervisionCase | None:
    """The open case for the same ticket and reason (or, for a cluster or a unit's repeated
    complaints, the same matter)."""
    same: ColumnElement[bool]
    if reason == "cluster":
        same = SupervisionCase.matter == matter
    elif reason == "unit_complaints":
        same = (SupervisionCase.matter == matter) & (SupervisionCase.unit_id == unit_id)
    else:
        same = SupervisionCase.ticket_id == ticket_id
    return await session.scalar(
        select(SupervisionCase)
        .where(SupervisionCase.status == "open", SupervisionCase.reason == reason, same)
        .limit(1)
    )


def _waits() -> dict[str, int]:
    s = settings()
    return {
        "platform": s.supervision_platform_days,
        "phone": s.supervision_phone_days,
        "on_site": s.supervision_on_site_days,
    }


async def _emit_supervised(
    session: AsyncSession,
    case: SupervisionCase,
    previous: str | None,
    at: datetime,
    level: str | None = None,
) -> None:
    await outbox.emit(
        session,
        TicketSupervised(
            case_id=case.id,
            reason=case.reason,  # type: ignore[arg-type]
            level=level or case.level,  # type: ignore[arg-type]
            previous_level=previous,  # type: ignore[arg-type]
            unit_id=case.unit_id,
            related_ticket_ids=json.loads(case.related),
        ),
        ticket_id=case.ticket_id,
        occurred_at=at,
    )


async def _check_unit_complaints(
    session: AsyncSession, ticket: SlaTicket, unit_id: str, at: datetime
) -> None:
    matter = supervision.matter_key(ticket.category, ticket.area_code)
    if await _open_case(session, "unit_complaints", matter=matter, unit_id=unit_id):
        return  # already supervised: a storm against one unit must not re-read its tickets
    since = at - timedelta(days=settings().cluster_window_days)
    ids = (
        await session.scalars(
            select(Clock.ticket_id)
            .where(
                Clock.scope == "assignment",
                Clock.role == "lead",
                Clock.unit_id == unit_id,
                Clock.kind == "complaint",
                Clock.category == ticket.category,
                Clock.area_code == ticket.area_code,
                Clock.started_at >= since,
            )
            .distinct()
            .limit(supervision.UNIT_COMPLAINTS)
        )
    ).all()
    if supervision.is_repeated_against_unit(len(ids)):
        await open_case(
            session,
            ticket_id=ticket.id,
            reason="unit_complaints",
            at=at,
            unit_id=unit_id,
            area_code=ticket.area_code,
            matter=matter,
            related=sorted(ids),
        )


async def touch_cases(session: AsyncSession, ticket_id: str, at: datetime) -> None:
    """Something happened on the ticket: its open cases wait again from now at their level."""
    cases = (
        await session.scalars(
            select(SupervisionCase).where(
                SupervisionCase.ticket_id == ticket_id, SupervisionCase.status == "open"
            )
        )
    ).all()
    if not cases:
        return
    calendar = await load_calendar(session)
    for case in cases:
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
    query = select(SupervisionCase).where(
        SupervisionCase.ticket_id == ticket_id, SupervisionCase.status == "open"
    )
    if reasons:
        query = query.where(SupervisionCase.reason.in_(reasons))
    for case in (await session.scalars(query)).all():
        case.status, case.resolved_at, case.resolution, case.next_escalation_at = (
            "resolved",
            at,
            why,
            None,
        )


async def escalate_supervision(
    sessionmaker: async_sessionmaker[AsyncSession], clock: TimeSource
) -> int:
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
                        SupervisionCase.status == "open", SupervisionCase.next_escalation_at <= now
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
                    await _emit_supervised(session, case, previous, due)
                    raised += 1
        if len(cases) < batch:
            return raised


async def _escalate(
    session: AsyncSession, case: SupervisionCase, calendar: cal.WorkingCalendar, now: datetime
) -> int:
    """Raise a case one level per wait that ran out, each step dated when its wait ended."""
    steps: list[tuple[str, str, datetime]] = []
    level, due = case.level, case.next_escalation_at and aware(case.next_escalation_at)
    while due is not None and due <= now:
        higher = supervision.next_level(level)
        assert higher is not None
        steps.append((level, higher, due))
        level, due = higher, supervision.escalation_due(due, higher, calendar, _waits())
    if not steps:
        return 0
    claimed = await session.execute(
        update(SupervisionCase)
        .where(
            SupervisionCase.id == case.id,
            SupervisionCase.level == case.level,
            SupervisionCase.status == "open",
        )
        .values(level=level, escalated_at=steps[-1][2], next_escalation_at=due)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    for previous, higher, at in steps:
        await _emit_supervised(session, case, previous, at, level=higher)
    return len(steps)


async def resolve_case(
    session: AsyncSession, case_id: str, note: str, now: datetime
) -> SupervisionCase:
    case = await get_case(session, case_id)
    if case.status != "open":
        raise Conflict(f"case {case_id} is already {case.status}", allowed_actions=[])
    case.status, case.resolved_at, case.resolution, case.next_escalation_at = (
        "resolved",
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


# ------------------------------------------------------------------------------ reads


async def ticket_clocks(
    session: AsyncSession, ticket_id: str, scope: str | None = "assignment"
) -> Sequence[tuple[Clock, Sequence[Timer]]]:
    query = select(Clock).where(Clock.ticket_id == ticket_id).order_by(Clock.started_at, Clock.id)
    if scope:
        query = query.where(Clock.scope == scope)
    clocks = (await session.scalars(query)).all()
    return [(c, await _timers(session, c.id)) for c in clocks]


async def clock_history(session: AsyncSession, ticket_id: str) -> Sequence[ClockHistory]:
    return (
        await session.scalars(
            select(ClockHistory)
            .where(ClockHistory.ticket_id == ticket_id)
            .order_by(ClockHistory.id)
        )
    ).all()


async def sla_ticket(session: AsyncSession, ticket_id: str) -> SlaTicket:
    ticket = await session.get(SlaTicket, ticket_id)
    if ticket is None:
        raise NotFound(f"sla knows no ticket {ticket_id}", field="ticket_id")
    return ticket


def _scoped(query: Any, unit_id: str | None, area_code: str | None) -> Any:
    if unit_id:
        query = query.where(Clock.unit_id == unit_id)
    if area_code:
        query = query.where(Clock.area_code.startswith(area_code))
    return query


async def due_soon(
    session: AsyncSession,
    now: datetime,
    within: timedelta,
    unit_id: str | None,
    area_code: str | None,
) -> Sequence[tuple[Timer, Clock]]:
    """Running deadlines that fall due within `within` (through the (state, due_at) index)."""
    query = (
        select(Timer, Clock)
        .join(Clock, Clock.id == Timer.clock_id)
        .where(
            Timer.state == "armed",
            Timer.due_at > now,
            Timer.due_at <= now + within,
            Timer.kind == "deadline",
        )
        .order_by(Timer.due_at)
    )
    return cast(
        Sequence[tuple[Timer, Clock]],
        (await session.execute(_scoped(query, unit_id, area_code))).all(),
    )


async def overdue(
    session: AsyncSession,
    unit_id: str | None,
    area_code: str | None = None,
    include_finished: bool = False,
) -> Sequence[tuple[Timer, Clock]]:
    """Breached deadlines (超期): by default those whose stage is still open."""
    query = (
        select(Timer, Clock)
        .join(Clock, Clock.id == Timer.clock_id)
        .where(Timer.state == "fired", Timer.kind == "deadline")
        .order_by(Timer.due_at)
    )
    if not include_finished:
        query = query.where(Timer.stopped_at.is_(None), Clock.status == "open")
    return cast(
        Sequence[tuple[Timer, Clock]],
        (await session.execute(_scoped(query, unit_id, area_code))).all(),
    )


def is_after(moment: datetime | None, due: datetime) -> bool:
    return moment is not None and aware(moment) > aware(due)


def unit_scope(who: Principal, unit_id: str | None) -> str | None:
    """A unit sees only its own; the centre may filter by any unit."""
    return who.unit_id if who.role is Role.UNIT else unit_id
