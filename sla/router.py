"""sla's routes: clocks and their history, due-soon and overdue lists, policies, the calendar,
extension decisions and supervision cases."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.clock import aware, china_time
from shared.errors import Forbidden, NotFound
from shared.events.sla import SupervisionLevel, SupervisionReason
from shared.problems import AUTHENTICATED, problem_responses
from shared.runtime import current_time, session_dependency
from sla import calendar_admin, policies, policy_admin, reads, supervising

# `extensions` is also a route below (its name is the API's operation id); the module goes by
# what it holds, the requests (延期申请).
from sla import extensions as extension_requests
from sla.domain import CaseStatus, ExtensionStatus
from sla.models import (
    ClockHistory,
    DeadlineClock,
    Extension,
    PolicyVersion,
    SupervisionCase,
    Timer,
)
from sla.policies import Limit, Policy, Reminder
from sla.schemas import (
    CaseOut,
    ClockOut,
    DayIn,
    DeadlineOut,
    DecisionIn,
    ExtensionOut,
    HistoryOut,
    LimitOut,
    OverrideOut,
    PeriodIn,
    PolicyIn,
    PolicyOut,
    ReminderIn,
    ResolveIn,
    TicketSlaOut,
    TimerOut,
    WorkingHoursIn,
    YearIn,
    YearOut,
)
from sla.stored import load_policies, policy_of

router = APIRouter(prefix="/api/v1/sla", tags=["sla"], responses=problem_responses(*AUTHENTICATED))
# A change: refused in the current state (409), with a body (413).
CHANGE = problem_responses(404, 409, 413)

Session = Annotated[AsyncSession, Depends(session_dependency("sla"))]
Now = Annotated[datetime, Depends(current_time)]
# Leaders (领导) read deadlines and supervision cases; nothing here is personal data.
Reader = Annotated[
    Principal,
    Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE, Role.UNIT, Role.LEADER)),
]
Centre = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))]
Decider = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
Code = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="e.g. heating-winter")]
Year = Annotated[int, Path(description="the calendar year")]


def _timer(t: Timer) -> TimerOut:
    met = (
        None
        if t.kind != "deadline" or (t.state == "armed")
        else (t.stopped_at is not None and not reads.is_after(t.stopped_at, t.due_at))
    )
    return TimerOut(
        stage=t.stage,
        kind=t.kind,
        threshold=t.threshold,
        due_at=china_time(t.due_at),
        state=t.state,
        stopped_at=china_time(t.stopped_at),
        fired_at=china_time(t.fired_at),
        met=met,
    )


def _clock(c: DeadlineClock, timers: list[Timer] | tuple[Timer, ...] | object) -> ClockOut:
    assert isinstance(timers, list | tuple)
    return ClockOut(
        id=c.id,
        ticket_id=c.ticket_id,
        assignment_id=c.assignment_id,
        unit_id=c.unit_id,
        policy=c.policy,
        started_at=china_time(c.started_at),
        scope=c.scope,
        round=c.round,
        role=c.role,
        status=c.status,
        extension_days=c.extension_days,
        time_zone=c.time_zone,
        timers=[_timer(t) for t in timers],
    )


def _deadline(t: Timer, c: DeadlineClock) -> DeadlineOut:
    return DeadlineOut(
        ticket_id=c.ticket_id,
        clock_id=c.id,
        scope=c.scope,
        assignment_id=c.assignment_id,
        unit_id=c.unit_id,
        area_code=c.area_code,
        stage=t.stage,
        due_at=china_time(t.due_at),
        fired_at=china_time(t.fired_at),
    )


def _extension(e: Extension) -> ExtensionOut:
    return ExtensionOut(
        id=e.id,
        ticket_id=e.ticket_id,
        assignment_id=e.assignment_id,
        unit_id=e.unit_id,
        requested_days=e.requested_days,
        reason=e.reason,
        requested_at=china_time(e.requested_at),
        status=e.status,
        days=e.days,
        note=e.note,
        decided_at=china_time(e.decided_at),
        complete_by_before=china_time(e.complete_by_before),
        complete_by_after=china_time(e.complete_by_after),
    )


def _case(c: SupervisionCase) -> CaseOut:
    return CaseOut(
        id=c.id,
        ticket_id=c.ticket_id,
        reason=c.reason,
        level=c.level,
        status=c.status,
        unit_id=c.unit_id,
        area_code=c.area_code,
        matter=c.matter,
        related_ticket_ids=json.loads(c.related),
        opened_at=china_time(c.opened_at),
        last_activity_at=china_time(c.last_activity_at),
        escalated_at=china_time(c.escalated_at),
        next_escalation_at=china_time(c.next_escalation_at),
        resolved_at=china_time(c.resolved_at),
        resolution=c.resolution,
    )


def _history(h: ClockHistory) -> HistoryOut:
    return HistoryOut(clock_id=h.clock_id, at=china_time(h.at), what=h.what, detail=h.detail)


# ------------------------------------------------------------------------------ clocks


@router.get(
    "/tickets/{ticket_id}/clocks", response_model=list[ClockOut], responses=problem_responses(404)
)
async def ticket_clocks(ticket_id: str, session: Session, who: Reader) -> list[ClockOut]:
    """The ticket's assignment clocks and deadlines; a unit sees only its own clocks."""
    return [
        _clock(c, list(timers))
        for c, timers in await reads.ticket_clocks(session, ticket_id)
        if who.role is not Role.UNIT or c.unit_id == who.unit_id
    ]


@router.get("/tickets/{ticket_id}", response_model=TicketSlaOut, responses=problem_responses(404))
async def ticket_sla(ticket_id: str, session: Session, who: Reader) -> TicketSlaOut:
    """Everything sla knows of a ticket: its round clocks (the citizen-facing expected time),
    the units' clocks, their history, extensions and supervision cases. A unit sees its own."""
    ticket = await reads.sla_ticket(session, ticket_id)
    everything = await reads.ticket_clocks(session, ticket_id, scope=None)
    mine = [(c, t) for c, t in everything if who.role is not Role.UNIT or c.unit_id == who.unit_id]
    if who.role is Role.UNIT and not mine:
        raise Forbidden("This ticket was not dispatched to your unit.")
    visible = {c.id for c, _ in mine}
    current = (
        next((c, t) for c, t in everything if c.scope == "ticket" and c.round == ticket.round)
        if any(c.scope == "ticket" and c.round == ticket.round for c, _ in everything)
        else None
    )
    expected = None
    if current is not None:
        expected = next((x.due_at for x in current[1] if x.kind == "deadline"), None)
    unit = reads.unit_scope(who, None)
    return TicketSlaOut(
        ticket_id=ticket.id,
        round=ticket.round,
        status=ticket.status,
        dispatch_count=ticket.dispatch_count,
        expected_completion=china_time(expected),
        ticket_clocks=[_clock(c, list(t)) for c, t in mine if c.scope == "ticket"],
        clocks=[_clock(c, list(t)) for c, t in mine if c.scope == "assignment"],
        history=[
            _history(h)
            for h in await reads.clock_history(session, ticket_id)
            if h.clock_id in visible
        ],
        extensions=[
            _extension(e)
            for e in await extension_requests.list_extensions(session, None, unit)
            if e.ticket_id == ticket_id
        ],
        supervision=[
            _case(c)
            for c in await supervising.list_cases(
                session, status=None, level=None, reason=None, unit_id=None, area_code=None
            )
            if c.ticket_id == ticket_id and (unit is None or c.unit_id == unit)
        ],
    )


@router.get("/due-soon", response_model=list[DeadlineOut])
async def due_soon(
    session: Session,
    who: Reader,
    now: Now,
    within_hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24,
    unit_id: str | None = None,
    area_code: str | None = None,
) -> list[DeadlineOut]:
    """Running deadlines that fall due within the next hours (临期); a unit sees its own."""
    rows = await reads.due_soon(
        session, now, timedelta(hours=within_hours), reads.unit_scope(who, unit_id), area_code
    )
    return [_deadline(t, c) for t, c in rows]


@router.get("/overdue", response_model=list[DeadlineOut])
async def overdue(
    session: Session,
    who: Reader,
    unit_id: str | None = None,
    area_code: str | None = None,
    include_finished: bool = False,
) -> list[DeadlineOut]:
    """Breached deadlines (超期) whose stage is still open (all with include_finished); a unit
    sees its own."""
    rows = await reads.overdue(session, reads.unit_scope(who, unit_id), area_code, include_finished)
    return [_deadline(t, c) for t, c in rows]


# ------------------------------------------------------------------------------ policies


def _policy_out(
    p: Policy, now: datetime, in_force: set[str], recomputed: int | None = None
) -> PolicyOut:
    return PolicyOut(
        code=p.code,
        version=p.version,
        name=p.name,
        urgency=p.urgency,
        kind=p.kind,
        category=p.category,
        unit_class=p.unit_class,
        sign=LimitOut(amount=p.sign.amount, unit=p.sign.unit),
        response=LimitOut(amount=p.response.amount, unit=p.response.unit),
        completion=LimitOut(amount=p.completion.amount, unit=p.completion.unit),
        reminders=[
            ReminderIn(fraction=r.fraction, hours_before=r.hours_before) for r in p.reminders
        ],
        effective_from=china_time(p.effective_from),
        retired=p.retired,
        builtin=p.version == 0,
        in_force=p.label in in_force,
        recomputed_clocks=recomputed,
    )


def _rows_out(
    rows: list[PolicyVersion] | tuple[PolicyVersion, ...] | object, now: datetime
) -> list[PolicyOut]:
    assert isinstance(rows, list | tuple)
    versions = [policy_of(r) for r in rows]
    return [_policy_out(p, now, set()) for p in versions]


@router.get("/policies", response_model=list[PolicyOut])
async def list_policies(session: Session, who: Reader, now: Now) -> list[PolicyOut]:
    """Every stored version and the built-in defaults; `in_force` marks what applies now."""
    versions = await load_policies(session)
    current = {p.label for p in policies.in_force(versions, now)}
    current |= {p.label for p in policies.DEFAULT_POLICIES}
    return [
        _policy_out(p, now, current)
        for p in sorted([*policies.DEFAULT_POLICIES, *versions], key=lambda p: (p.code, p.version))
    ]


@router.get("/policies/{code}", response_model=list[PolicyOut], responses=problem_responses(404))
async def get_policy(code: Code, session: Session, who: Reader, now: Now) -> list[PolicyOut]:
    """A policy's versions, oldest first."""
    versions = await load_policies(session)
    builtin = [p for p in policies.DEFAULT_POLICIES if p.code == code]
    mine = sorted([*builtin, *(p for p in versions if p.code == code)], key=lambda p: p.version)
    if not mine:
        raise NotFound(f"no policy {code}", field="code")
    current = {p.label for p in policies.in_force(versions, now)} | {p.label for p in builtin}
    return [_policy_out(p, now, current) for p in mine]


@router.put(
    "/policies/{code}",
    response_model=PolicyOut,
    status_code=201,
    responses=problem_responses(409, 413),
)
async def put_policy(
    code: Code, body: PolicyIn, session: Session, who: Supervisor, now: Now
) -> PolicyOut:
    """A new version of a policy, in force from `effective_from` (default now). Open clocks
    that started after it are recomputed; closed ones are never touched."""
    if code.startswith("default-"):
        raise_builtin(code)
    policy = Policy(
        code=code,
        version=0,
        name=body.name,
        urgency=body.urgency,
        kind=body.kind,
        category=body.category,
        unit_class=body.unit_class,
        sign=Limit(body.sign.amount, body.sign.unit),  # type: ignore[arg-type]
        response=Limit(body.response.amount, body.response.unit),  # type: ignore[arg-type]
        completion=Limit(body.completion.amount, body.completion.unit),  # type: ignore[arg-type]
        reminders=tuple(Reminder(r.fraction, r.hours_before) for r in body.reminders),
        effective_from=aware(body.effective_from) if body.effective_from else now,
    )
    async with session.begin():
        row, recomputed = await policy_admin.put_policy(session, policy, who, now)
        stored = policy_of(row)
    return _policy_out(stored, now, set(), recomputed)


def raise_builtin(code: str) -> None:
    from shared.errors import InvalidInput

    raise InvalidInput(
        f"{code}: the built-in defaults cannot be edited; store a policy with the same urgency "
        "under another code, it takes precedence",
        field="code",
    )


@router.delete("/policies/{code}", response_model=PolicyOut, responses=problem_responses(404, 409))
async def retire_policy(
    code: Code,
    session: Session,
    who: Supervisor,
    now: Now,
    effective_from: Annotated[datetime | None, Query()] = None,
) -> PolicyOut:
    """Retire a policy from `effective_from` (default now): a new version that matches nothing."""
    if code.startswith("default-"):
        raise_builtin(code)
    at = aware(effective_from) if effective_from else now
    async with session.begin():
        row, recomputed = await policy_admin.retire_policy(session, code, at, who, now)
        stored = policy_of(row)
    return _policy_out(stored, now, set(), recomputed)


# ------------------------------------------------------------------------------ calendar


def _year_out(view: calendar_admin.YearView, recomputed: int | None = None) -> YearOut:
    return YearOut(
        year=view.year,
        source=view.source,
        holidays=view.holidays,
        make_up_days=view.make_up_days,
        overrides=[OverrideOut(day=d, working=w, note=n) for d, w, n in view.overrides],
        working_hours=[PeriodIn(start=a, end=b) for a, b in view.working_hours],
        recomputed_clocks=recomputed,
    )


@router.post("/calendar/announce", status_code=202, response_model=dict[str, str])
async def announce_calendar(session: Session, who: Supervisor, now: Now) -> dict[str, str]:
    """Announce the whole calendar again as `calendar.changed` (after an upgrade, or for a
    service that joined later); nothing in it changes."""
    async with session.begin():
        await calendar_admin.announce_calendar(session, now)
    return {"announced": "calendar.changed"}


@router.put("/calendar/working-hours", response_model=YearOut, responses=problem_responses(413))
async def working_hours(
    body: WorkingHoursIn, session: Session, who: Supervisor, now: Now
) -> YearOut:
    """The working periods of a working day, for limits in working hours."""
    async with session.begin():
        recomputed = await calendar_admin.set_working_hours(
            session, [(p.start, p.end) for p in body.periods], now
        )
    return _year_out(await calendar_admin.calendar_year(session, china_time(now).year), recomputed)


@router.get("/calendar/{year}", response_model=YearOut)
async def calendar_year(year: Year, session: Session, who: Reader) -> YearOut:
    """A year's holidays (weekdays off), make-up working days (调休), overrides, working hours."""
    return _year_out(await calendar_admin.calendar_year(session, year))


@router.put("/calendar/{year}", response_model=YearOut, responses=problem_responses(413))
async def load_year(
    year: Year, body: YearIn, session: Session, who: Supervisor, now: Now
) -> YearOut:
    """Load a year's official schedule (the State Council's notice), replacing any earlier load;
    open clocks are recomputed."""
    async with session.begin():
        recomputed = await calendar_admin.load_year(
            session, year, body.holidays, body.make_up_days, body.note, now
        )
    return _year_out(await calendar_admin.calendar_year(session, year), recomputed)


@router.put("/calendar/days/{day}", response_model=YearOut, responses=problem_responses(413))
async def override_day(
    day: date, body: DayIn, session: Session, who: Supervisor, now: Now
) -> YearOut:
    """Make a single day a working day or not; open clocks are recomputed."""
    async with session.begin():
        recomputed = await calendar_admin.override_day(session, day, body.working, body.note, now)
    return _year_out(await calendar_admin.calendar_year(session, day.year), recomputed)


@router.delete("/calendar/days/{day}", response_model=YearOut, responses=problem_responses(404))
async def remove_override(day: date, session: Session, who: Supervisor, now: Now) -> YearOut:
    async with session.begin():
        recomputed = await calendar_admin.remove_override(session, day, now)
    return _year_out(await calendar_admin.calendar_year(session, day.year), recomputed)


# ------------------------------------------------------------------------------ extensions


@router.get("/extensions", response_model=list[ExtensionOut])
async def extensions(
    session: Session,
    who: Reader,
    status: Annotated[ExtensionStatus | None, Query()] = None,
) -> list[ExtensionOut]:
    """Extension requests (延期申请); a unit sees its own."""
    rows = await extension_requests.list_extensions(session, status, reads.unit_scope(who, None))
    return [_extension(e) for e in rows]


@router.post("/extensions/{request_id}/decision", response_model=ExtensionOut, responses=CHANGE)
async def decide_extension(
    request_id: str, body: DecisionIn, session: Session, who: Decider, now: Now
) -> ExtensionOut:
    """Approve (moving the completion deadline by working days) or refuse a request."""
    async with session.begin():
        request = await extension_requests.decide_extension(
            session,
            request_id,
            approve=body.approve,
            days=body.days,
            note=body.note,
            who=who,
            now=now,
        )
    return _extension(request)


# ------------------------------------------------------------------------------ supervision


@router.get("/supervision", response_model=list[CaseOut])
async def supervision_cases(
    session: Session,
    who: Reader,
    status: Annotated[CaseStatus | None, Query()] = CaseStatus.OPEN,
    level: Annotated[SupervisionLevel | None, Query()] = None,
    reason: Annotated[SupervisionReason | None, Query()] = None,
    unit_id: str | None = None,
    area_code: str | None = None,
) -> list[CaseOut]:
    """Supervision cases (督办); a unit sees the cases naming it."""
    rows = await supervising.list_cases(
        session,
        status=status,
        level=level,
        reason=reason,
        unit_id=reads.unit_scope(who, unit_id),
        area_code=area_code,
    )
    return [_case(c) for c in rows]


@router.get("/supervision/{case_id}", response_model=CaseOut, responses=problem_responses(404))
async def supervision_case(case_id: str, session: Session, who: Reader) -> CaseOut:
    case = await supervising.get_case(session, case_id)
    if who.role is Role.UNIT and case.unit_id != who.unit_id:
        raise NotFound(f"no supervision case {case_id}", field="case_id")
    return _case(case)


@router.post("/supervision/{case_id}/resolve", response_model=CaseOut, responses=CHANGE)
async def resolve_case(
    case_id: str, body: ResolveIn, session: Session, who: Supervisor, now: Now
) -> CaseOut:
    """Close a case by hand (e.g. after joint supervision settled it)."""
    async with session.begin():
        case = await supervising.resolve_case(session, case_id, body.note, now)
    return _case(case)
