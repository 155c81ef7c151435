"""callback's use cases (回访): load → decide with domain.py → write → add events to the outbox."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from callback import domain
from callback.config import settings
from callback.domain import CallbackStatus
from callback.models import CallbackAttempt, CallbackTask, CallbackTicket, outbox
from callback.schemas import ResultIn, VerdictIn
from shared import metrics
from shared.errors import Conflict, NotFound
from shared.events import Event
from shared.events.callback import (
    CallbackChannel,
    CallbackCompleted,
    CallbackExcluded,
    CallbackUnreachable,
    NotCallableReason,
    TicketClosed,
    TicketReopened,
)
from shared.events.intake import TicketAnswered, TicketReceived
from shared.events.routing import TicketReplied
from shared.runtime import TakesRuns


async def note_tickets(session: AsyncSession, events: Sequence[Event[TicketReceived]]) -> None:
    """On a run of `ticket.received` (受理), the one event callback gets for every ticket:
    remember whether each citizen can be called back at all, one insert for the run (a row
    each was a statement each)."""
    rows = [
        {
            "ticket_id": e.ticket_id,
            "anonymous": e.data.anonymous,
            "declined": False,
            "channel": e.data.channel,
        }
        for e in events
    ]
    await session.execute(insert(CallbackTicket), rows)


NOTE_TICKETS = TakesRuns(note_tickets)


async def open_after_reply(session: AsyncSession, event: Event[TicketReplied]) -> None:
    """On `ticket.replied`: queue the callback for that handling round (全量回访)."""
    data = event.data
    await _open(
        session,
        event,
        round_=data.round,
        source="reply",
        lead_unit_id=data.lead_unit_id,
        reply_outcome=data.outcome,
    )


async def open_after_answer(session: AsyncSession, event: Event[TicketAnswered]) -> None:
    """On `ticket.answered`: an on-the-spot answer is called back too."""
    await _open(session, event, round_=1, source="answer", lead_unit_id=None, reply_outcome=None)


async def _open(
    session: AsyncSession,
    event: Event[TicketReplied | TicketAnswered],
    *,
    round_: int,
    source: str,
    lead_unit_id: str | None,
    reply_outcome: str | None,
) -> None:
    task_id = domain.callback_id(event.ticket_id, round_)
    if await session.get(CallbackTask, task_id) is not None:
        return  # this round already has its callback, whichever event announced it first
    ticket = await session.get(CallbackTicket, event.ticket_id)
    if ticket is None:
        raise NotFound(f"callback for unknown ticket {event.ticket_id}")
    existing = await session.scalar(select(func.count()).select_from(CallbackTask))
    task = CallbackTask(
        id=task_id,
        ticket_id=event.ticket_id,
        round=round_,
        source=source,
        lead_unit_id=lead_unit_id,
        reply_outcome=reply_outcome,
        status=CallbackStatus.DUE,
        attempts=0,
        assigned_to=domain.operator_in_turn(int(existing or 0), settings().operator_ids()),
        created_at=event.occurred_at,
        due_at=event.occurred_at + timedelta(hours=settings().delay_hours),
        revision=1,
    )
    session.add(task)
    if ticket.anonymous or ticket.declined:
        await _exclude(
            session, task, "anonymous" if ticket.anonymous else "declined", event.occurred_at
        )


async def _exclude(
    session: AsyncSession, task: CallbackTask, reason: NotCallableReason, now: datetime
) -> None:
    task.status = CallbackStatus.EXCLUDED
    task.exclusion_reason = reason
    task.completed_at = now
    await outbox.emit(
        session,
        CallbackExcluded(
            callback_id=task.id, round=task.round, unit_id=task.lead_unit_id, reason=reason
        ),
        ticket_id=task.ticket_id,
        occurred_at=now,
    )
    await _close(session, task, f"not callable: {reason}", now)


async def _close(session: AsyncSession, task: CallbackTask, reason: str, now: datetime) -> None:
    await outbox.emit(
        session, TicketClosed(reason=reason), ticket_id=task.ticket_id, occurred_at=now
    )


async def get_callback(
    session: AsyncSession, callback_id: str, *, for_update: bool = False
) -> CallbackTask:
    task = await session.get(CallbackTask, callback_id, with_for_update=for_update)
    if task is None:
        raise NotFound(f"Callback '{callback_id}' does not exist.", field="callback_id")
    return task


async def attempts_of(session: AsyncSession, callback_id: str) -> Sequence[CallbackAttempt]:
    rows = await session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.id)
    )
    return rows.all()


async def queue(
    session: AsyncSession,
    *,
    status: str | None,
    ticket_id: str | None,
    assigned_to: str | None,
    due_by: datetime | None,
) -> Sequence[CallbackTask]:
    """The callback queue, earliest due first."""
    query = select(CallbackTask).order_by(CallbackTask.due_at, CallbackTask.id)
    if status:
        query = query.where(CallbackTask.status == status)
    if ticket_id:
        query = query.where(CallbackTask.ticket_id == ticket_id)
    if assigned_to:
        query = query.where(CallbackTask.assigned_to == assigned_to)
    if due_by:
        query = query.where(CallbackTask.due_at <= due_by)
    return (await session.scalars(query)).all()


async def _previous_attempt_at(session: AsyncSession, task: CallbackTask) -> datetime | None:
    """When this revision's last failed attempt was made (None before the first; a redone
    callback starts afresh)."""
    if task.attempts == 0:
        return None
    return await session.scalar(
        select(CallbackAttempt.at)
        .where(CallbackAttempt.callback_id == task.id)
        .order_by(CallbackAttempt.id.desc())
        .limit(1)
    )


async def record_attempt(
    session: AsyncSession, callback_id: str, outcome: str, *, operator: str, now: datetime
) -> CallbackTask:
    """A call that did not reach the citizen: retry later, or close as unreachable. An attempt
    before the next allowed time (回访重拨间隔) is refused with 409 and changes nothing."""
    # Locked (PostgreSQL) so that two attempts sent at once cannot both pass the spacing check.
    task = await get_callback(session, callback_id, for_update=True)
    domain.ensure_allowed(task.status, "record_attempt")
    s = settings()
    spacing = timedelta(hours=s.retry_spacing_hours)
    domain.ensure_attempt_allowed(await _previous_attempt_at(session, task), now, spacing)
    session.add(CallbackAttempt(callback_id=task.id, at=now, operator=operator, outcome=outcome))
    task.attempts += 1
    task.status, task.due_at = domain.after_failed_attempt(
        task.attempts, s.max_attempts, now, spacing
    )
    if task.status == CallbackStatus.UNREACHABLE:
        task.completed_at = now
        await outbox.emit(
            session,
            CallbackUnreachable(
                callback_id=task.id,
                round=task.round,
                unit_id=task.lead_unit_id,
                attempts=task.attempts,
            ),
            ticket_id=task.ticket_id,
            occurred_at=now,
        )
        await _close(session, task, "citizen unreachable", now)
    return task


async def decline(session: AsyncSession, callback_id: str, *, now: datetime) -> CallbackTask:
    """The citizen declines to be called back: excluded now and in later rounds."""
    task = await get_callback(session, callback_id)
    domain.ensure_allowed(task.status, "decline")
    ticket = await session.get(CallbackTicket, task.ticket_id)
    if ticket is not None:
        ticket.declined = True
    await _exclude(session, task, "declined", now)
    return task


def _set_verdict(
    task: CallbackTask, verdict: VerdictIn, *, channel: str, operator: str | None, now: datetime
) -> None:
    task.contacted_by_unit = verdict.contacted_by_unit
    task.solved = verdict.solved
    task.satisfaction = verdict.satisfaction
    task.comment = verdict.comment
    task.channel = channel
    task.operator = operator
    task.completed_at = now


async def _announce_verdict(session: AsyncSession, task: CallbackTask, now: datetime) -> None:
    await outbox.emit(
        session,
        CallbackCompleted(
            callback_id=task.id,
            round=task.round,
            unit_id=task.lead_unit_id,
            contacted_by_unit=bool(task.contacted_by_unit),
            solved=task.solved,  # type: ignore[arg-type]
            satisfaction=task.satisfaction,  # type: ignore[arg-type]
            channel=cast(CallbackChannel, task.channel or "phone"),
            revision=task.revision,
        ),
        ticket_id=task.ticket_id,
        occurred_at=now,
    )


async def _conclude(
    session: AsyncSession, task: CallbackTask, *, reopen: bool, reason: str | None, now: datetime
) -> None:
    """重办 or 结案, by the operator's judgement within the re-open limit."""
    decision = domain.decide(
        solved=task.solved or "",
        satisfaction=task.satisfaction or "",
        reopen=reopen,
        round_=task.round,
        max_reopens=settings().max_reopens,
    )
    task.decision = decision
    task.status = CallbackStatus.COMPLETED
    if decision == "reopen":
        await outbox.emit(
            session,
            TicketReopened(
                callback_id=task.id,
                round=task.round + 1,
                lead_unit_id=task.lead_unit_id,
                reason=reason or task.comment or "回访未解决",
            ),
            ticket_id=task.ticket_id,
            occurred_at=now,
        )
    else:
        await _close(session, task, "callback completed", now)


async def record_result(
    session: AsyncSession, callback_id: str, result: ResultIn, *, operator: str, now: datetime
) -> CallbackTask:
    """An operator records the verdicts from a phone callback and judges re-opening."""
    task = await get_callback(session, callback_id)
    domain.ensure_allowed(task.status, "record_result")
    if result.reopen:  # refuse before anything is written
        domain.decide(
            solved=result.solved,
            satisfaction=result.satisfaction,
            reopen=True,
            round_=task.round,
            max_reopens=settings().max_reopens,
        )
    _set_verdict(task, result, channel="phone", operator=operator, now=now)
    await _announce_verdict(session, task, now)
    await _conclude(session, task, reopen=result.reopen, reason=result.reopen_reason, now=now)
    return task


def rating_link(task: CallbackTask, now: datetime) -> tuple[str, str, datetime]:
    """A signed link for the citizen to rate this round themselves (SMS or mini-program)."""
    domain.ensure_allowed(task.status, "rating_link")
    s = settings()
    expires = now + timedelta(hours=s.rating_link_hours)
    token = domain.rating_token(task.id, expires, s.rating_secret)
    return token, f"{s.rating_base_url}{token}", expires


async def rate(
    session: AsyncSession, token: str, verdict: VerdictIn, *, channel: str, now: datetime
) -> CallbackTask:
    """The citizen's own rating: once per round. A negative one waits for an operator's
    judgement on re-opening; a positive one closes the ticket."""
    callback_id = domain.verify_rating_token(token, settings().rating_secret, now)
    task = await get_callback(session, callback_id)
    if task.status != CallbackStatus.DUE:
        raise Conflict(
            "token: this callback has already been rated or closed.",
            status_now=task.status,
            allowed_actions=[],
            field="token",
        )
    _set_verdict(task, verdict, channel=channel, operator=None, now=now)
    await _announce_verdict(session, task, now)
    if domain.not_solved_or_dissatisfied(verdict.solved, verdict.satisfaction):
        task.status = CallbackStatus.REVIEW
    else:
        await _conclude(session, task, reopen=False, reason=None, now=now)
    return task


async def decide_review(
    session: AsyncSession, callback_id: str, *, reopen: bool, reason: str | None, now: datetime
) -> CallbackTask:
    task = await get_callback(session, callback_id)
    domain.ensure_allowed(task.status, "decide")
    await _conclude(session, task, reopen=reopen, reason=reason, now=now)
    return task


async def sample(session: AsyncSession, size: int, seed: int | None) -> list[CallbackTask]:
    """Quality sampling: completed phone callbacks, drawn at random (reproducible with a seed)."""
    done = (
        await session.scalars(
            select(CallbackTask)
            .where(CallbackTask.status == CallbackStatus.COMPLETED, CallbackTask.channel == "phone")
            .order_by(CallbackTask.id)
        )
    ).all()
    return random.Random(seed).sample(list(done), min(size, len(done)))


async def redo(
    session: AsyncSession, callback_id: str, reason: str, *, now: datetime
) -> CallbackTask:
    """A supervisor flags a recorded callback to be done again; its next verdict supersedes."""
    task = await get_callback(session, callback_id)
    domain.ensure_allowed(task.status, "redo")
    if task.decision == "reopen":
        raise Conflict(
            "This callback already re-opened the ticket; the next round is called back.",
            status_now=task.status,
            allowed_actions=[],
        )
    task.status = CallbackStatus.DUE
    task.revision += 1
    task.redo_reason = reason
    task.attempts = 0
    task.due_at = now
    task.decision = None
    return task


async def gauges(session: AsyncSession, now: datetime) -> None:
    """Callbacks waiting to be made, and those waiting past the callback window (回访时限)."""
    waiting = CallbackTask.status == CallbackStatus.DUE
    late = now - timedelta(hours=settings().overdue_hours)
    due, overdue = (
        await session.execute(
            select(
                func.count().filter(CallbackTask.due_at <= now),
                func.count().filter(CallbackTask.due_at <= late),
            ).where(waiting)
        )
    ).one()
    metrics.CALLBACKS_DUE.set(int(due or 0))
    metrics.CALLBACKS_OVERDUE.set(int(overdue or 0))
