"""吹哨报到: whistles and the summoned departments' reports."""

from __future__ import annotations

from fastapi import APIRouter

from routing import whistle
from routing.routes.deps import Now, Reader, Session, UnitOnly
from routing.routes.views import whistle_out
from routing.schemas import WhistleOut, WhistleReportIn
from shared.problems import problem_responses

router = APIRouter()


@router.get("/whistles", response_model=list[WhistleOut])
async def list_whistles(
    session: Session, now: Now, who: Reader, ticket_id: str | None = None
) -> list[WhistleOut]:
    return [whistle_out(w, s, now) for w, s in await whistle.list_whistles(session, who, ticket_id)]


@router.get("/whistles/{whistle_id}", response_model=WhistleOut, responses=problem_responses(404))
async def get_whistle(whistle_id: str, session: Session, now: Now, who: Reader) -> WhistleOut:
    w, s = await whistle.get_whistle(session, whistle_id, who)
    return whistle_out(w, s, now)


@router.post(
    "/whistles/{whistle_id}/report",
    response_model=WhistleOut,
    responses=problem_responses(404, 409, 413),
)
async def report(
    whistle_id: str, body: WhistleReportIn, session: Session, now: Now, who: UnitOnly
) -> WhistleOut:
    """报到: a summoned department reports; late when past `respond_by`."""
    async with session.begin():
        w, s = await whistle.report(session, whistle_id, body, who=who, now=now)
    return whistle_out(w, s, now)
