"""callback's routes: the operators' queue and results, supervisors' sampling, citizens' ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from callback import domain, service
from callback.models import CallbackTask
from callback.schemas import (
    AttemptIn,
    AttemptOut,
    CallbackOut,
    DecisionIn,
    RatingIn,
    RatingLinkOut,
    RedoIn,
    ResultIn,
    SampleIn,
)
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.problems import AUTHENTICATED, problem_responses
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/api/v1", tags=["callback"], responses=problem_responses(*AUTHENTICATED))
# An action on a callback: unknown (404), or not allowed in its status (409, with
# `allowed_actions`; an attempt too soon also with `Retry-After`).
ACTION = problem_responses(404, 409, 413)

Session = Annotated[AsyncSession, Depends(session_dependency("callback"))]
Now = Annotated[datetime, Depends(current_time)]
Staff = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
LinkSender = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SERVICE))]


async def _out(session: AsyncSession, t: CallbackTask) -> CallbackOut:
    attempts = await service.attempts_of(session, t.id)
    return CallbackOut(
        id=t.id,
        ticket_id=t.ticket_id,
        round=t.round,
        source=t.source,
        lead_unit_id=t.lead_unit_id,
        reply_outcome=t.reply_outcome,
        status=t.status,
        allowed_actions=domain.ACTIONS.get(t.status, []),
        exclusion_reason=t.exclusion_reason,
        assigned_to=t.assigned_to,
        attempts=[
            AttemptOut(at=china_time(a.at), operator=a.operator, outcome=a.outcome)
            for a in attempts
        ],
        due_at=china_time(t.due_at),
        completed_at=china_time(t.completed_at),
        channel=t.channel,
        contacted_by_unit=t.contacted_by_unit,
        solved=t.solved,
        satisfaction=t.satisfaction,
        comment=t.comment,
        operator=t.operator,
        decision=t.decision,
        revision=t.revision,
        redo_reason=t.redo_reason,
    )


@router.get("/callbacks", response_model=list[CallbackOut])
async def callback_queue(
    session: Session,
    now: Now,
    who: Staff,
    status: Annotated[domain.CallbackStatus | None, Query()] = None,
    ticket_id: str | None = None,
    mine: Annotated[bool, Query(description="only the callbacks assigned to me")] = False,
    due_now: Annotated[bool, Query(description="only those due by now")] = False,
) -> list[CallbackOut]:
    """The callback queue, earliest due first; `ticket_id` gives a ticket's callback history."""
    tasks = await service.queue(
        session,
        status=status,
        ticket_id=ticket_id,
        assigned_to=who.subject if mine else None,
        due_by=now if due_now else None,
    )
    return [await _out(session, t) for t in tasks]


@router.get(
    "/callbacks/{callback_id}", response_model=CallbackOut, responses=problem_responses(404)
)
async def get_callback(callback_id: str, session: Session, who: Staff) -> CallbackOut:
    return await _out(session, await service.get_callback(session, callback_id))


@router.post("/callbacks/{callback_id}/result", response_model=CallbackOut, responses=ACTION)
async def record_result(
    callback_id: str, result: ResultIn, session: Session, now: Now, who: Operator
) -> CallbackOut:
    """Record what the citizen said on the phone, and whether the ticket is re-opened (重办)."""
    async with session.begin():
        task = await service.record_result(
            session, callback_id, result, operator=who.subject, now=now
        )
    return await _out(session, task)


@router.post("/callbacks/{callback_id}/attempts", response_model=CallbackOut, responses=ACTION)
async def record_attempt(
    callback_id: str, body: AttemptIn, session: Session, now: Now, who: Operator
) -> CallbackOut:
    """The citizen could not be reached. The next attempt is allowed CALLBACK_RETRY_SPACING_HOURS
    later (an earlier one: 409 with `next_attempt_at`); after CALLBACK_MAX_ATTEMPTS spaced
    attempts the callback is unreachable."""
    async with session.begin():
        task = await service.record_attempt(
            session, callback_id, body.outcome, operator=who.subject, now=now
        )
    return await _out(session, task)


@router.post(
    "/callbacks/{callback_id}/decline",
    response_model=CallbackOut,
    responses=problem_responses(404, 409),
)
async def decline(callback_id: str, session: Session, now: Now, who: Operator) -> CallbackOut:
    """The citizen declines callbacks: excluded from the rates, now and in later rounds."""
    async with session.begin():
        task = await service.decline(session, callback_id, now=now)
    return await _out(session, task)


@router.post("/callbacks/{callback_id}/decision", response_model=CallbackOut, responses=ACTION)
async def decide(
    callback_id: str, body: DecisionIn, session: Session, now: Now, who: Operator
) -> CallbackOut:
    """Judge a citizen's negative self-rating: re-open (the demand is reasonable) or close."""
    async with session.begin():
        task = await service.decide_review(
            session, callback_id, reopen=body.reopen, reason=body.reason, now=now
        )
    return await _out(session, task)


@router.post(
    "/callbacks/{callback_id}/rating-link",
    response_model=RatingLinkOut,
    responses=problem_responses(404, 409),
)
async def rating_link(
    callback_id: str, session: Session, now: Now, who: LinkSender
) -> RatingLinkOut:
    """A signed, expiring link for the citizen to rate this round (SMS, or the mini-program)."""
    token, url, expires = service.rating_link(await service.get_callback(session, callback_id), now)
    return RatingLinkOut(
        callback_id=callback_id, token=token, url=url, expires_at=china_time(expires)
    )


@router.post(
    "/ratings",
    response_model=CallbackOut,
    # No bearer token: the link's token is the credential (forged 401, expired 410, used 409).
    responses=problem_responses(409, 410, 413),
)
async def rate(body: RatingIn, session: Session, now: Now) -> CallbackOut:
    """The citizen rates the result. The link's token is the credential: bound to one ticket
    and round, expiring, usable once."""
    async with session.begin():
        task = await service.rate(session, body.token, body, channel=body.channel, now=now)
    return await _out(session, task)


@router.post(
    "/callbacks/samples", response_model=list[CallbackOut], responses=problem_responses(413)
)
async def sample(body: SampleIn, session: Session, who: Supervisor) -> list[CallbackOut]:
    """Quality sampling (质检): recorded phone callbacks drawn at random."""
    return [await _out(session, t) for t in await service.sample(session, body.size, body.seed)]


@router.post("/callbacks/{callback_id}/redo", response_model=CallbackOut, responses=ACTION)
async def redo(
    callback_id: str, body: RedoIn, session: Session, now: Now, who: Supervisor
) -> CallbackOut:
    """Flag a recorded callback to be done again; the next verdict supersedes it."""
    async with session.begin():
        task = await service.redo(session, callback_id, body.reason, now=now)
    return await _out(session, task)
