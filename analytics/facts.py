"""The read model's rules: fold one ticket's events into its fact rows, and say what those rows
contribute to the daily aggregates. Pure: no database, no clock.

A ticket's history is its ticket fact and its assignment facts. `fold` applies one event;
`derive` recomputes what follows from the raw times (lead unit, completion, on time, handling
days …); `contributions` turns a history into counts keyed by (day, unit, area, category,
channel). The consumer stores `contributions(after) − contributions(before)` for every event
(summed per ticket over a run: analytics.consumer), so the aggregates always equal the sum over
the current facts: a rebuild that sums the final facts gives exactly the same numbers, and
events of different tickets may come in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import NamedTuple

from analytics.domain import handling_days, local_day
from analytics.rates import Tally
from shared.calendar import WorkingCalendar
from shared.events import Event, Payload, callback, intake, routing, sla

DEFAULT_CALENDAR = WorkingCalendar()


@dataclass(frozen=True)
class TicketState:
    ticket_id: str
    # ticket.received
    received_at: datetime | None = None
    channel: str | None = None
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None
    area_code: str | None = None
    citizen_ref: str | None = None
    anonymous: bool = False
    # ticket.answered (在线解答)
    answered: bool = False
    answered_at: datetime | None = None
    # routing: the handling round and its replies
    round: int = 1
    reopen_count: int = 0
    replied_round: int = 0
    replied_at: datetime | None = None
    reply_assignment_id: str | None = None
    reply_outcome: str | None = None
    # callback: the latest round's outcome
    callback_round: int = 0
    callback_revision: int = 0
    callback_status: str | None = None  # verdict / unreachable / not_callable
    callback_at: datetime | None = None
    callback_unit_id: str | None = None
    not_callable_reason: str | None = None
    contacted_by_unit: bool | None = None
    solved: str | None = None
    satisfaction: str | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    supervised_count: int = 0
    # derived (see `derive`)
    lead_assignment_id: str | None = None
    lead_unit_id: str | None = None
    first_dispatched_at: datetime | None = None
    dispatch_count: int = 0
    assist_count: int = 0
    returned_count: int = 0
    excluded: bool = False
    completed: bool = False
    completed_on_time: bool = False
    handling_days: float | None = None


@dataclass(frozen=True)
class AssignmentState:
    assignment_id: str
    ticket_id: str
    unit_id: str | None = None
    unit_name: str | None = None
    role: str | None = None
    round: int = 1
    dispatch_count: int = 0
    dispatched_at: datetime | None = None
    signed_at: datetime | None = None
    contacted_at: datetime | None = None
    replied_at: datetime | None = None
    outcome: str | None = None
    returned_at: datetime | None = None
    return_reason: str | None = None
    extension_requests: int = 0
    sign_by: datetime | None = None
    respond_by: datetime | None = None
    complete_by: datetime | None = None
    sign_breached: bool = False
    response_breached: bool = False
    completion_breached: bool = False
    # derived
    responded_on_time: bool = False


TICKET_FIELDS = tuple(f.name for f in fields(TicketState))
ASSIGNMENT_FIELDS = tuple(f.name for f in fields(AssignmentState))


@dataclass(frozen=True)
class History:
    ticket: TicketState
    assignments: dict[str, AssignmentState] = field(default_factory=dict)


@dataclass(frozen=True)
class Exclusions:
    """Which tickets no rate counts (versioned configuration)."""

    close_reasons: tuple[str, ...] = ("invalid", "malicious", "无效", "恶意")
    kinds: tuple[str, ...] = ()


def _assignment(h: History, assignment_id: str) -> AssignmentState:
    return h.assignments.get(assignment_id) or AssignmentState(assignment_id, h.ticket.ticket_id)


def _with(h: History, a: AssignmentState) -> History:
    return History(h.ticket, {**h.assignments, a.assignment_id: a})


def fold(h: History, event: Event[Payload]) -> History:
    """Apply one event to a ticket's history. Each event sets only its own fields, keyed by
    round and revision where they repeat, so the result does not depend on how events of
    different producers interleave."""
    at = event.occurred_at
    t = h.ticket
    match event.data:
        case intake.TicketReceived() as p:
            t = replace(
                t,
                received_at=p.received_at,
                channel=p.channel,
                kind=p.kind,
                category=p.category,
                urgency=p.urgency,
                area_code=p.area_code,
                citizen_ref=p.citizen_ref,
                anonymous=p.anonymous,
                answered=t.answered or p.answered,
            )
        case intake.TicketAnswered():
            t = replace(t, answered=True, answered_at=at)
        case routing.TicketDispatched() as p:
            a = replace(
                _assignment(h, p.assignment_id),
                unit_id=p.unit_id,
                unit_name=p.unit_name,
                role=p.role,
                round=p.round,
                dispatch_count=p.dispatch_count,
                dispatched_at=at,
            )
            h = _with(h, a)
            t = replace(t, round=max(t.round, a.round))
        case routing.AssignmentSigned() as p:
            a = _assignment(h, p.assignment_id)
            h = _with(h, replace(a, signed_at=a.signed_at or at, unit_id=a.unit_id or p.unit_id))
        case routing.AssignmentContacted() as p:
            a = _assignment(h, p.assignment_id)
            a = replace(a, contacted_at=a.contacted_at or at, unit_id=a.unit_id or p.unit_id)
            h = _with(h, a)
        case routing.AssignmentReplied() as p:
            a = _assignment(h, p.assignment_id)
            a = replace(a, replied_at=at, outcome=p.outcome, unit_id=a.unit_id or p.unit_id)
            h = _with(h, a)
        case routing.AssignmentReturned() as p:
            a = _assignment(h, p.assignment_id)
            h = _with(h, replace(a, returned_at=at, return_reason=p.reason_code))
        case routing.ExtensionRequested() as p:
            a = _assignment(h, p.assignment_id)
            h = _with(h, replace(a, extension_requests=a.extension_requests + 1))
        case sla.ClockStarted() as p:
            a = replace(
                _assignment(h, p.assignment_id),
                sign_by=p.sign_by,
                respond_by=p.respond_by,
                complete_by=p.complete_by,
            )
            h = _with(h, a)
        case sla.SlaBreached() as p:
            a = _assignment(h, p.assignment_id)
            if p.stage == "sign":
                a = replace(a, sign_breached=True)
            elif p.stage == "response":
                a = replace(a, response_breached=True)
            else:
                a = replace(a, completion_breached=True)
            h = _with(h, a)
        case sla.ExtensionDecided() as p:
            # `complete_by` is the assignment's completion deadline after the decision; a
            # refusal leaves it where it was.
            if p.approved:
                h = _with(h, replace(_assignment(h, p.assignment_id), complete_by=p.complete_by))
        case sla.TicketSupervised():
            t = replace(t, supervised_count=t.supervised_count + 1)
        case routing.TicketReplied() as p:
            if p.round >= t.replied_round:
                t = replace(
                    t,
                    replied_round=p.round,
                    replied_at=at,
                    reply_assignment_id=p.lead_assignment_id,
                    reply_outcome=p.outcome,
                )
        case callback.TicketReopened() as p:
            t = replace(
                t, round=max(t.round, p.round), reopen_count=max(t.reopen_count, p.round - 1)
            )
        case callback.CallbackCompleted() as p:
            if _latest(t, p.round, p.revision):
                t = replace(
                    _called_back(t, p.round, p.revision, at, p.unit_id),
                    callback_status="verdict",
                    solved=p.solved,
                    satisfaction=p.satisfaction,
                    contacted_by_unit=p.contacted_by_unit,
                    not_callable_reason=None,
                )
        case callback.CallbackUnreachable() as p:
            if _latest(t, p.round, 1):
                t = replace(
                    _called_back(t, p.round, 1, at, p.unit_id),
                    callback_status="unreachable",
                    solved=None,
                    satisfaction=None,
                    not_callable_reason=None,
                )
        case callback.CallbackExcluded() as p:
            if _latest(t, p.round, 1):
                t = replace(
                    _called_back(t, p.round, 1, at, p.unit_id),
                    callback_status="not_callable",
                    solved=None,
                    satisfaction=None,
                    not_callable_reason=p.reason,
                )
        case callback.TicketClosed() as p:
            t = replace(t, closed_at=at, close_reason=p.reason)
        case _:
            pass  # reminders and the rest change no fact
    return History(t, h.assignments)


def _latest(t: TicketState, round_: int, revision: int) -> bool:
    """Whether a callback outcome of (round, revision) is the ticket's latest so far."""
    return (round_, revision) >= (t.callback_round, t.callback_revision)


def _called_back(
    t: TicketState, round_: int, revision: int, at: datetime, unit_id: str | None
) -> TicketState:
    return replace(
        t,
        callback_round=round_,
        callback_revision=revision,
        callback_at=at,
        callback_unit_id=unit_id,
    )


def derive(
    h: History, exclusions: Exclusions, calendar: WorkingCalendar = DEFAULT_CALENDAR
) -> History:
    """Recompute what follows from the raw facts; handling times count working days on
    `calendar`: sla's, as analytics last learned it (the service and the rebuild pass it; the
    default, the published calendar, is what applies before sla's first `calendar.changed`)."""
    t = h.ticket
    assignments = {
        k: replace(
            a,
            responded_on_time=_by(a.signed_at, a.sign_by) and _by(a.contacted_at, a.respond_by),
        )
        for k, a in h.assignments.items()
    }
    dispatched = [a for a in assignments.values() if a.dispatched_at is not None]
    leads = [a for a in dispatched if a.role == "lead"]
    # The current lead: the latest round's latest dispatch that was not returned, else the
    # latest dispatch at all.
    live = [a for a in leads if a.returned_at is None] or leads
    lead = max(live, key=lambda a: (a.round, a.dispatch_count, a.dispatched_at), default=None)
    reply_lead = assignments.get(t.reply_assignment_id or "")
    completed = t.answered or (t.replied_round >= 1 and t.replied_round >= t.round)
    on_time = t.answered or (
        completed
        and reply_lead is not None
        and t.replied_at is not None
        and _by(t.replied_at, reply_lead.complete_by)
    )
    first = min((a.dispatched_at for a in dispatched if a.dispatched_at), default=None)
    handling = (
        handling_days(first, t.replied_at, calendar)
        if completed and not t.answered and first and t.replied_at
        else None
    )
    reason = (t.close_reason or "").lower()
    excluded = (t.kind in exclusions.kinds) or any(
        r.lower() in reason for r in exclusions.close_reasons
    )
    t = replace(
        t,
        lead_assignment_id=lead.assignment_id if lead else None,
        lead_unit_id=lead.unit_id if lead else None,
        first_dispatched_at=first,
        dispatch_count=max((a.dispatch_count for a in dispatched), default=0),
        # 协同: an assisting unit that returned the ticket did not coordinate.
        assist_count=len(
            {a.unit_id for a in dispatched if a.role == "assist" and a.returned_at is None}
        ),
        returned_count=sum(1 for a in dispatched if a.returned_at is not None),
        excluded=excluded,
        completed=completed,
        completed_on_time=on_time,
        handling_days=handling,
    )
    return History(t, assignments)


def _by(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and due is not None and done <= due


class Key(NamedTuple):
    """Where counts land in the daily aggregates ('' for not known)."""

    day: date
    unit_id: str
    area_code: str
    category: str
    channel: str


def contributions(h: History) -> dict[Key, Tally]:
    """What one ticket's (derived) history adds to the aggregates; see `analytics.rates.Tally`
    for the date that places each count."""
    t = h.ticket
    out: dict[Key, Tally] = {}

    def add(day: date, unit: str | None, tally: Tally) -> None:
        key = Key(day, unit or "", t.area_code or "", t.category or "", t.channel or "")
        out[key] = out.get(key, Tally()) + tally

    if t.received_at is None:  # not received yet (should not happen: per-ticket order)
        return out
    received_day = local_day(t.received_at)
    if t.excluded:
        add(received_day, t.lead_unit_id, Tally(received=1, excluded=1))
        return out
    handled = (t.answered or t.replied_round >= 1) and t.callback_status != "not_callable"
    verdict = t.callback_status == "verdict" and t.solved is not None
    dispatched = t.lead_unit_id is not None and not t.answered
    add(
        received_day,
        t.lead_unit_id,
        Tally(
            received=1,
            answered=int(t.answered),
            dispatched=int(dispatched),
            completed=int(t.completed),
            completed_on_time=int(t.completed_on_time),
            reopened=int(dispatched and t.reopen_count > 0),
            handled=int(handled),
            called_back=int(handled and verdict),
            not_callable=int(t.callback_status == "not_callable"),
            unreachable=int(t.callback_status == "unreachable"),
            handling_count=int(t.handling_days is not None),
            handling_seconds=round((t.handling_days or 0.0) * 86400),
            supervised=int(t.supervised_count > 0),
        ),
    )
    for a in h.assignments.values():
        if a.dispatched_at is None:
            continue
        lead = a.role == "lead" and a.returned_at is None
        add(
            local_day(a.dispatched_at),
            a.unit_id,
            Tally(
                assignments=1,
                returned=int(a.returned_at is not None),
                leads=int(lead),
                leads_responded=int(lead and a.responded_on_time),
            ),
        )
    if verdict and t.callback_at is not None:
        coordinated = t.assist_count > 0
        solved, partly = t.solved == "solved", t.solved == "partly_solved"
        add(
            local_day(t.callback_at),
            t.callback_unit_id or t.lead_unit_id,
            Tally(
                verdicts=1,
                solved=int(solved),
                partly_solved=int(partly),
                unsolved=int(t.solved == "unsolved"),
                satisfied=int(t.satisfaction == "satisfied"),
                basically_satisfied=int(t.satisfaction == "basically_satisfied"),
                dissatisfied=int(t.satisfaction == "dissatisfied"),
                coordinated_verdicts=int(coordinated),
                coordinated_solved=int(coordinated and solved),
                coordinated_partly_solved=int(coordinated and partly),
            ),
        )
    return out


def delta(before: dict[Key, Tally], after: dict[Key, Tally]) -> dict[Key, Tally]:
    """after − before, without the keys that did not change."""
    out: dict[Key, Tally] = {}
    for key in before.keys() | after.keys():
        d = after.get(key, Tally()) - before.get(key, Tally())
        if not d.is_zero():
            out[key] = d
    return out


# Every event the read model folds, by payload class (sla's later ones too, if they arrive).
PROJECTED: tuple[type[Payload], ...] = (
    intake.TicketReceived,
    intake.TicketAnswered,
    routing.TicketDispatched,
    routing.AssignmentSigned,
    routing.AssignmentContacted,
    routing.AssignmentReplied,
    routing.AssignmentReturned,
    routing.ExtensionRequested,
    routing.TicketReplied,
    sla.ClockStarted,
    sla.SlaBreached,
    sla.SlaReminder,
    sla.ExtensionDecided,
    sla.TicketSupervised,
    callback.CallbackCompleted,
    callback.CallbackUnreachable,
    callback.CallbackExcluded,
    callback.TicketReopened,
    callback.TicketClosed,
)
