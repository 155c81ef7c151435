"""Receipt, dispatch and clusters (受理、派单、集中诉求) a run at a time: the events that remember
tickets, arm their clocks (时限) and open supervision cases (督办), about four a ticket, applied
as one call per run of them (`TakesRuns`). The run's tickets, clocks and open cases are read
once, up front, and kept here so that each event sees what the earlier ones changed; the rows
are written at the end, one statement per table. One event at a time cost some twenty-five
statements a ticket, and on SQLite each statement is a round trip of the one event loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from shared import calendar as cal
from shared import tracing
from shared.events import Envelope, Event, Payload
from shared.events.intake import ClusterFlagged, ClusterFlaggedV1, TicketReceived
from shared.events.routing import TicketDispatched
from shared.runtime import TakesRuns
from sla import domain, supervision
from sla.clock_rows import (
    assignment_clock,
    clock_started,
    history_row,
    planned_deadlines,
    ticket_clock,
    timer_rows,
)
from sla.clocks import stop_clock
from sla.domain import CaseStatus, ClockStatus, TicketStatus
from sla.models import ClockHistory, DeadlineClock, SlaTicket, SupervisionCase, Timer, outbox
from sla.policies import Policy
from sla.stored import load_calendar, load_policies
from sla.supervising import (
    Opening,
    complaints_against,
    open_among,
    rewait,
    same_case,
    supervised,
)

_CLUSTER_FLAGS = (ClusterFlagged, ClusterFlaggedV1)  # v1: older logs
_CLOCKS = cast(Table, DeadlineClock.__table__)
ARMING: tuple[type[Payload], ...] = (TicketReceived, TicketDispatched, *_CLUSTER_FLAGS)


class _Run:
    """What a run of events has read and is about to write. Tickets and cases are session
    objects (written by the flush); the clocks it starts are inserted together, in one
    statement, and are session objects from then on, so what the run changes on them later
    (a re-dispatch stops a lead it started) is written by the flush; history lines and timers
    are plain rows, each inserted in one statement once their clocks are written; the events go
    to the outbox in one statement at the end of the run. (Each `outbox.emit` was a statement
    of its own, and flushed the session before it: the run's clocks and tickets then went one
    at a time.)"""

    def __init__(
        self,
        session: AsyncSession,
        tickets: dict[str, SlaTicket],
        clocks: dict[str, DeadlineClock],
        cases: list[SupervisionCase],
    ) -> None:
        self.session = session
        self.tickets = tickets
        self.clocks = clocks
        self.cases = cases  # open when read; those opened in the run are added
        self.started: list[DeadlineClock] = []  # not yet written
        self.timers: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.events: list[Envelope] = []

    @classmethod
    async def read(cls, session: AsyncSession, events: Sequence[Event[Any]]) -> _Run:
        """One read each of the run's tickets, clocks and open cases; none the run needs not."""
        ids = sorted({e.ticket_id for e in events})
        tickets = {
            t.id: t for t in await session.scalars(select(SlaTicket).where(SlaTicket.id.in_(ids)))
        }
        dispatches = [e.data for e in events if isinstance(e.data, TicketDispatched)]
        clusters = [e.data.cluster_id for e in events if isinstance(e.data, _CLUSTER_FLAGS)]
        clocks: dict[str, DeadlineClock] = {}
        if dispatches:
            # A clock is found by its assignment (K<assignment>), as well as by its ticket.
            armed = [f"K{d.assignment_id}" for d in dispatches]
            of_run = select(DeadlineClock).where(
                or_(DeadlineClock.ticket_id.in_(ids), DeadlineClock.id.in_(armed))
            )
            clocks = {c.id: c for c in await session.scalars(of_run)}
        cases: list[SupervisionCase] = []
        if dispatches or clusters:
            # A ticket's own cases, its cluster's, and its matter's against a unit (重复投诉).
            received = [e.data for e in events if isinstance(e.data, TicketReceived)]
            matters = {
                *clusters,
                *(supervision.matter_key(t.category, t.area_code) for t in tickets.values()),
                *(supervision.matter_key(r.category, r.area_code) for r in received),
            }
            open_cases = select(SupervisionCase).where(
                SupervisionCase.status == CaseStatus.OPEN,
                or_(SupervisionCase.ticket_id.in_(ids), SupervisionCase.matter.in_(matters)),
            )
            cases = list(await session.scalars(open_cases))
        return cls(session, tickets, clocks, cases)

    def add_clock(self, clock: DeadlineClock, planned: Sequence[domain.PlannedTimer]) -> None:
        self.started.append(clock)
        self.clocks[clock.id] = clock
        self.timers += timer_rows(clock.id, planned, 0)

    def record(self, clock: DeadlineClock, at: datetime, what: str, detail: str = "") -> None:
        """clock_rows.add_history, written with the run's other lines."""
        self.history.append(history_row(clock, at, what, detail))

    def emit(
        self, payload: Payload, *, ticket_id: str, at: datetime, correlation_id: str | None = None
    ) -> None:
        """`outbox.emit`, added with the run's other events when it ends, in log order."""
        self.events.append(
            outbox.envelope(
                payload, ticket_id=ticket_id, occurred_at=at, correlation_id=correlation_id
            )
        )

    async def write_clocks(self) -> None:
        """Insert the clocks started since the last write, in one statement (no flush: the
        tickets wait for the end of the run), and keep them as session objects."""
        if not self.started:
            return
        rows = [{c.key: getattr(clock, c.key) for c in _CLOCKS.columns} for clock in self.started]
        await self.session.execute(insert(_CLOCKS), rows)
        for clock in self.started:
            make_transient_to_detached(clock)
            self.session.add(clock)
        self.started.clear()

    async def write(self) -> None:
        """Write the rows the run holds: its clocks and objects, then its history lines and
        timers (after their clocks). Before a statement that must see them, and at the end of
        the run; the history a use case adds itself meanwhile is flushed first, so the lines
        keep their order."""
        await self.write_clocks()
        await self.session.flush()
        for model, rows in ((ClockHistory, self.history), (Timer, self.timers)):
            if rows:
                await self.session.execute(insert(model), rows)
                rows.clear()

    async def end(self) -> None:
        """The rows, then the run's events: all one transaction, so no reader sees one
        without the other whatever their order."""
        await self.write()
        await outbox.emit_all(self.session, self.events)
        self.events.clear()

    def open_case(self, calendar: cal.WorkingCalendar, opening: Opening) -> None:
        """A case (督办) opened among the run's cases: none if the same one is open."""
        case = open_among(self.cases, calendar, opening)
        if case is not None:
            self.session.add(case)
            self.emit(supervised(case, None), ticket_id=case.ticket_id, at=opening.at)

    def touch_cases(self, ticket_id: str, at: datetime, calendar: cal.WorkingCalendar) -> None:
        """supervising.touch_cases on the run's cases."""
        for case in self.cases:
            if case.ticket_id == ticket_id and case.status == CaseStatus.OPEN:
                rewait(case, at, calendar)


Arming = TicketReceived | TicketDispatched | ClusterFlagged | ClusterFlaggedV1


async def apply(session: AsyncSession, events: Sequence[Event[Arming]]) -> None:
    """Apply a run of receipts, dispatches and cluster flags in log order."""
    run = await _Run.read(session, events)
    # The run writes where a statement must see its rows (`_Run.write`), not before each read
    # of the calendar or the policies, which its rows never change.
    with session.no_autoflush:
        # Each event goes to the use case of its payload (Event[X] is invariant in X).
        for event in cast(Sequence[Event[Any]], events):
            # What each event causes continues its own trace, not the run's first event's.
            with tracing.continued(f"sla: {event.type}", event.envelope.trace_context):
                if isinstance(event.data, TicketReceived):
                    _received(run, event)
                elif isinstance(event.data, TicketDispatched):
                    await _dispatched(run, event)
                else:
                    await _cluster_flagged(run, event)
    await run.end()


ARM = TakesRuns(apply)


def _received(run: _Run, event: Event[TicketReceived]) -> None:
    """On `ticket.received`: remember what policies and supervision need."""
    data = event.data
    ticket = run.tickets.get(event.ticket_id)
    if ticket is None:
        ticket = SlaTicket(id=event.ticket_id, dispatch_count=0, round=1)
        run.session.add(ticket)
        run.tickets[ticket.id] = ticket
    ticket.kind, ticket.category, ticket.urgency = data.kind, data.category, data.urgency
    ticket.area_code, ticket.citizen_ref = data.area_code, data.citizen_ref
    ticket.received_at = data.received_at
    ticket.status = TicketStatus.ANSWERED if data.answered else TicketStatus.OPEN


def _ticket_for_dispatch(run: _Run, event: Event[TicketDispatched]) -> SlaTicket:
    data = event.data
    ticket = run.tickets.get(event.ticket_id)
    if ticket is None:  # received before sla kept tickets: what the dispatch tells us
        ticket = SlaTicket(
            id=event.ticket_id,
            kind=data.kind,
            category="",
            urgency=data.urgency,
            area_code=None,
            received_at=event.occurred_at,
            status=TicketStatus.OPEN,
            round=data.round,
            dispatch_count=0,
        )
        run.session.add(ticket)
        run.tickets[ticket.id] = ticket
    ticket.dispatch_count = max(ticket.dispatch_count or 0, data.dispatch_count)
    ticket.round = max(ticket.round or 1, data.round)
    ticket.status = TicketStatus.OPEN
    return ticket


async def _dispatched(run: _Run, event: Event[TicketDispatched]) -> None:
    """On `ticket.dispatched`: a fresh clock for the assignment; for the lead, the round's
    ticket clock starts (or, after a re-dispatch, keeps running with the new lead)."""
    data = event.data
    clock_id = f"K{data.assignment_id}"
    if clock_id in run.clocks:
        return
    session = run.session
    ticket = _ticket_for_dispatch(run, event)
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    start = event.occurred_at
    clock, planned = assignment_clock(ticket, data, clock_id, start, calendar, versions)
    run.add_clock(clock, planned)
    run.record(clock, start, "started", f"{data.unit_name} ({data.role}), {clock.policy}")
    started = clock_started(clock, planned_deadlines(planned), "dispatched")
    assert started is not None  # an assignment's clock is announced
    run.emit(started, ticket_id=clock.ticket_id, at=start, correlation_id=event.correlation_id)

    if data.role == "lead":
        await _lead_dispatched(run, ticket, clock, data, calendar, versions, start)
    if supervision.is_redispatched(data.dispatch_count):
        run.open_case(
            calendar,
            Opening(
                ticket_id=event.ticket_id,
                reason="redispatched",
                at=start,
                unit_id=data.unit_id,
                area_code=ticket.area_code,
            ),
        )
    if data.role == "lead" and data.kind == "complaint" and ticket.category:
        await _check_unit_complaints(run, ticket, data.unit_id, start, calendar)
    run.touch_cases(event.ticket_id, start, calendar)


async def _lead_dispatched(
    run: _Run,
    ticket: SlaTicket,
    lead: DeadlineClock,
    data: TicketDispatched,
    calendar: cal.WorkingCalendar,
    versions: Sequence[Policy],
    start: datetime,
) -> None:
    # Re-dispatch (改派): the previous lead of the round stops; the new one got a fresh clock.
    previous = [
        c
        for c in run.clocks.values()
        if c.ticket_id == ticket.id
        and c.scope == "assignment"
        and c.role == "lead"
        and c.round == data.round
        and c.status == ClockStatus.OPEN
        and c.id != lead.id
    ]
    if previous:
        await run.write()  # stopping updates the timers, the run's included
    for old in previous:
        await stop_clock(run.session, old, start, ClockStatus.REDISPATCHED)
    current = run.clocks.get(f"T{ticket.id}-R{data.round}")
    if current is None:
        clock, planned = ticket_clock(ticket, data.round, start, lead, calendar, versions)
        run.add_clock(clock, planned)
        run.record(clock, start, "started", f"round {data.round}, {clock.policy}")
    elif current.status == ClockStatus.OPEN:
        current.assignment_id, current.unit_id = lead.assignment_id, lead.unit_id
        run.record(
            current,
            start,
            "lead_changed",
            f"new lead {lead.unit_id}; clock keeps running",
        )


async def _check_unit_complaints(
    run: _Run, ticket: SlaTicket, unit_id: str, at: datetime, calendar: cal.WorkingCalendar
) -> None:
    """A complaint led by `unit_id`: open a case when it is the third on one matter against
    the unit within the window (重复投诉)."""
    opening = Opening(
        ticket_id=ticket.id,
        reason="unit_complaints",
        at=at,
        unit_id=unit_id,
        area_code=ticket.area_code,
        matter=supervision.matter_key(ticket.category, ticket.area_code),
    )
    if any(same_case(c, opening) for c in run.cases):
        return  # already supervised: a storm against one unit must not re-read its tickets
    await run.write_clocks()  # the run's clocks count
    ids = await complaints_against(run.session, ticket, unit_id, at)
    if supervision.is_repeated_against_unit(len(ids)):
        run.open_case(calendar, replace(opening, related=ids))


async def _cluster_flagged(run: _Run, event: Event[ClusterFlagged | ClusterFlaggedV1]) -> None:
    """On `ticket.cluster_flagged`: a cluster (集中诉求) is supervised from the report that forms
    it. intake alone decides what a cluster is (same matter by text and place, different
    people); sla opens one case per cluster and lets the later reports join it quietly."""
    data = event.data
    # v1 (older logs) listed every member; v2 lists who joined with this event.
    joined = data.joined_ticket_ids if isinstance(data, ClusterFlagged) else data.ticket_ids
    run.open_case(
        await load_calendar(run.session),
        Opening(
            ticket_id=event.ticket_id,
            reason="cluster",
            at=event.occurred_at,
            matter=data.cluster_id,
            area_code=data.area_code,
            related=sorted(joined),
        ),
    )
