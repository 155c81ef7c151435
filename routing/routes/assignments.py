"""The unit's worklist and its actions on an assignment: sign, contact, reply, notes,
extension, return, forward."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from routing import reads, returns, workflow
from routing.domain import AssignmentStatus
from routing.routes.deps import Now, Reader, Session, UnitOnly
from routing.routes.views import (
    assignment_out,
    assignment_with_ticket,
    note_out,
    return_out,
    unit_kinds,
)
from routing.schemas import (
    AssignmentOut,
    ExtensionIn,
    ExtensionOut,
    ForwardIn,
    NoteIn,
    NoteOut,
    ReplyIn,
    ReturnIn,
    ReturnOut,
)
from shared.clock import china_time
from shared.problems import problem_responses

router = APIRouter()
# An action on an assignment: unknown (404), or not allowed in its status (409).
ACTION = problem_responses(404, 409)
ACTION_WITH_BODY = problem_responses(404, 409, 413)


@router.get("/assignments", response_model=list[AssignmentOut])
async def worklist(
    session: Session,
    who: Reader,
    status: Annotated[AssignmentStatus | None, Query()] = None,
) -> list[AssignmentOut]:
    """The worklist: a unit sees its own assignments, the centre sees all."""
    kinds = await unit_kinds(session)
    return [assignment_out(a, t, kinds) for a, t in await reads.worklist(session, who, status)]


@router.get(
    "/assignments/{assignment_id}", response_model=AssignmentOut, responses=problem_responses(404)
)
async def get_assignment(assignment_id: str, session: Session, who: Reader) -> AssignmentOut:
    return await assignment_with_ticket(
        session, await reads.get_assignment(session, assignment_id, who)
    )


@router.post("/assignments/{assignment_id}/sign", response_model=AssignmentOut, responses=ACTION)
async def sign(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """签收: the unit takes the ticket."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "sign", who=who, now=now)
    return await assignment_with_ticket(session, a)


@router.post("/assignments/{assignment_id}/contact", response_model=AssignmentOut, responses=ACTION)
async def contact(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """首次联系: the unit has contacted the citizen (this is the response)."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "contact", who=who, now=now)
    return await assignment_with_ticket(session, a)


@router.post(
    "/assignments/{assignment_id}/reply", response_model=AssignmentOut, responses=ACTION_WITH_BODY
)
async def reply(
    assignment_id: str, body: ReplyIn, session: Session, now: Now, who: UnitOnly
) -> AssignmentOut:
    """办结反馈: outcome (solved / partly_solved / unsolvable with reason and legal path) and
    the explanation for the citizen. Assistants reply to the lead; the lead's reply closes the
    handling once every assistant has replied or timed out."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "reply", who=who, now=now, reply=body)
    return await assignment_with_ticket(session, a)


@router.post(
    "/assignments/{assignment_id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=ACTION_WITH_BODY,
)
async def add_note(
    assignment_id: str, body: NoteIn, session: Session, now: Now, who: UnitOnly
) -> NoteOut:
    """办理进展: a progress note while the work is under way."""
    async with session.begin():
        n = await workflow.add_note(session, assignment_id, body, who=who, now=now)
    return note_out(n)


@router.get(
    "/assignments/{assignment_id}/notes",
    response_model=list[NoteOut],
    responses=problem_responses(404),
)
async def notes(assignment_id: str, session: Session, who: Reader) -> list[NoteOut]:
    return [note_out(n) for n in await reads.notes(session, assignment_id, who)]


@router.post(
    "/assignments/{assignment_id}/extension",
    status_code=202,
    response_model=ExtensionOut,
    responses=ACTION_WITH_BODY,
)
async def request_extension(
    assignment_id: str, body: ExtensionIn, session: Session, now: Now, who: UnitOnly
) -> ExtensionOut:
    """延期申请: ask the centre for more working days; sla approves or refuses."""
    async with session.begin():
        r = await workflow.request_extension(session, assignment_id, body, who=who, now=now)
    return ExtensionOut(
        id=r.id,
        assignment_id=r.assignment_id,
        requested_days=r.requested_days,
        reason=r.reason,
        requested_at=china_time(r.requested_at),
    )


@router.post(
    "/assignments/{assignment_id}/return",
    status_code=202,
    response_model=ReturnOut,
    responses=ACTION_WITH_BODY,
)
async def request_return(
    assignment_id: str, body: ReturnIn, session: Session, now: Now, who: UnitOnly
) -> ReturnOut:
    """退单: not this unit's ticket; within the window after dispatch; the centre decides."""
    async with session.begin():
        r = await returns.request_return(session, assignment_id, body, who=who, now=now)
    return await return_out(session, r)


@router.post(
    "/assignments/{assignment_id}/forward",
    response_model=AssignmentOut,
    responses=ACTION_WITH_BODY,
)
async def forward(
    assignment_id: str, body: ForwardIn, session: Session, now: Now, who: UnitOnly
) -> AssignmentOut:
    """下派 (level-by-level dispatch): a district government passes the ticket down."""
    async with session.begin():
        a = await workflow.forward(session, assignment_id, body, who=who, now=now)
    return await assignment_with_ticket(session, a)
