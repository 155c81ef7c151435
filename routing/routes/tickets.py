"""A ticket's routing: the dispatcher's queue, the ticket's assignments, manual dispatch,
re-dispatch (改派), joint determination (联合认定) and blowing the whistle (吹哨) on it."""

from __future__ import annotations

from fastapi import APIRouter

from routing import dispatcher, returns, whistle
from routing.routes.deps import Centre, Dispatcher, Now, Reader, Session, UnitOnly
from routing.routes.views import determination_out, ticket_out, whistle_out
from routing.schemas import (
    DeterminationIn,
    DeterminationOut,
    DispatchIn,
    RoutedTicketOut,
    WhistleIn,
    WhistleOut,
)
from shared.problems import problem_responses

router = APIRouter()
# An action on a ticket: unknown (404), or not allowed in its state (409).
ACTION = problem_responses(404, 409, 413)


@router.get("/routing/queue", response_model=list[RoutedTicketOut])
async def dispatch_queue(session: Session, who: Dispatcher) -> list[RoutedTicketOut]:
    """The dispatcher's queue: tickets no rule placed (when the fallback is the queue)."""
    return [await ticket_out(session, t.id, who) for t in await dispatcher.queue(session)]


@router.get(
    "/routing/tickets/{ticket_id}", response_model=RoutedTicketOut, responses=problem_responses(404)
)
async def routed_ticket(ticket_id: str, session: Session, who: Reader) -> RoutedTicketOut:
    """A ticket's routing: counts, supervision, assignments (a unit sees only its own)."""
    return await ticket_out(session, ticket_id, who)


@router.post(
    "/routing/tickets/{ticket_id}/dispatch", response_model=RoutedTicketOut, responses=ACTION
)
async def manual_dispatch(
    ticket_id: str, body: DispatchIn, session: Session, now: Now, who: Dispatcher
) -> RoutedTicketOut:
    """人工派单 from the queue."""
    async with session.begin():
        await dispatcher.manual_dispatch(session, ticket_id, body, now=now)
    return await ticket_out(session, ticket_id, who)


@router.post(
    "/routing/tickets/{ticket_id}/redispatch", response_model=RoutedTicketOut, responses=ACTION
)
async def redispatch(
    ticket_id: str, body: DispatchIn, session: Session, now: Now, who: Dispatcher
) -> RoutedTicketOut:
    """改派: a new lead (and optionally new assistants); counted."""
    async with session.begin():
        await dispatcher.redispatch_by_centre(session, ticket_id, body, now=now)
    return await ticket_out(session, ticket_id, who)


@router.post(
    "/routing/tickets/{ticket_id}/determinations",
    status_code=201,
    response_model=DeterminationOut,
    responses=ACTION,
)
async def determine(
    ticket_id: str, body: DeterminationIn, session: Session, now: Now, who: Dispatcher
) -> DeterminationOut:
    """联合认定: record who is responsible; may re-dispatch and add a catalogue rule."""
    async with session.begin():
        d = await returns.determine(session, ticket_id, body, who=who, now=now)
    return determination_out(d)


@router.get(
    "/routing/tickets/{ticket_id}/determinations",
    response_model=list[DeterminationOut],
    responses=problem_responses(404),
)
async def determinations(ticket_id: str, session: Session, who: Centre) -> list[DeterminationOut]:
    return [determination_out(d) for d in await returns.determinations(session, ticket_id)]


@router.post(
    "/routing/tickets/{ticket_id}/whistles",
    status_code=201,
    response_model=WhistleOut,
    responses=ACTION,
)
async def blow_whistle(
    ticket_id: str, body: WhistleIn, session: Session, now: Now, who: UnitOnly
) -> WhistleOut:
    """吹哨: the street or community holding the ticket summons departments to report."""
    async with session.begin():
        w = await whistle.blow(session, ticket_id, body, who=who, now=now)
    found, summons = await whistle.get_whistle(session, w.id, who)
    return whistle_out(found, summons, now)
