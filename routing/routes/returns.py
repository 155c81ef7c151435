"""Returns (退单): the centre's to-do list and its decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from routing import returns
from routing.domain import ReturnStatus
from routing.routes.deps import Dispatcher, Now, Reader, Session
from routing.routes.views import return_out
from routing.schemas import ReturnDecisionIn, ReturnOut
from shared.problems import problem_responses

router = APIRouter()
# A decision on an unknown return (404), or one already decided (409).
DECISION = problem_responses(404, 409, 413)


@router.get("/returns", response_model=list[ReturnOut])
async def list_returns(
    session: Session,
    who: Reader,
    status: Annotated[ReturnStatus | None, Query()] = None,
    ticket_id: str | None = None,
) -> list[ReturnOut]:
    """Returns: a unit sees its own, the centre all (`status=pending` is the centre's to-do)."""
    return [
        await return_out(session, r)
        for r in await returns.list_returns(session, who, status, ticket_id)
    ]


@router.get("/returns/{return_id}", response_model=ReturnOut, responses=problem_responses(404))
async def get_return(return_id: str, session: Session, who: Reader) -> ReturnOut:
    return await return_out(session, await returns.get_return(session, return_id, who))


@router.post("/returns/{return_id}/approve", response_model=ReturnOut, responses=DECISION)
async def approve_return(
    return_id: str, body: ReturnDecisionIn, session: Session, now: Now, who: Dispatcher
) -> ReturnOut:
    async with session.begin():
        r = await returns.approve(session, return_id, body, who=who, now=now)
    return await return_out(session, r)


@router.post("/returns/{return_id}/reject", response_model=ReturnOut, responses=DECISION)
async def reject_return(
    return_id: str, body: ReturnDecisionIn, session: Session, now: Now, who: Dispatcher
) -> ReturnOut:
    async with session.begin():
        r = await returns.reject(session, return_id, body, who=who, now=now)
    return await return_out(session, r)
