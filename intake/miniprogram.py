"""The mini-program's backend (小程序): a citizen looks up a ticket by its number and the phone
it was reported with, follows it in plain Chinese, and adds information while it is open.

No bearer token: the number + phone pair is the credential, so it is rate limited per ticket
number and per client address (`INTAKE_LOOKUP_*`), and a wrong phone gets exactly the answer an
unknown number gets (404), so a guesser learns nothing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from intake import additions, domain, reads
from intake.config import settings
from intake.models import Ticket
from intake.schemas import AddInfoIn, CitizenTicketOut, CitizenTimelineOut, LookupIn
from shared.clock import Clock, china_time
from shared.errors import DomainError
from shared.http import client_address
from shared.problems import problem_responses
from shared.runtime import current_time, session_dependency

# No token: a wrong number or phone is 404, too many tries 429 (with Retry-After).
router = APIRouter(
    prefix="/api/v1/miniprogram",
    tags=["intake: mini-program"],
    responses=problem_responses(404, 413, 422, 429),
)

Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"


class SlidingWindow:
    """At most `limit` hits per key within `window` (in memory, per process)."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)

    def retry_after(self, key: str, now: datetime) -> int | None:
        """Record a hit; None if allowed, else the seconds until the oldest hit expires."""
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, int((hits[0] + self.window - now).total_seconds()) + 1)
        hits.append(now)
        return None


class Limits:
    def __init__(self) -> None:
        config = settings()
        window = timedelta(seconds=config.lookup_window_seconds)
        self.per_ticket = SlidingWindow(config.lookup_max_per_ticket, window)
        self.per_client = SlidingWindow(config.lookup_max_per_client, window)


def _limits(request: Request) -> Limits:
    limits: Limits | None = getattr(request.app.state, "intake_lookup_limits", None)
    if limits is None:
        limits = request.app.state.intake_lookup_limits = Limits()
    return limits


def check_rate(request: Request, ticket_id: str) -> None:
    clock: Clock = request.app.state.clock
    now = clock.now()
    limits = _limits(request)
    client = client_address(request)  # X-Forwarded-For only from HOTLINE_TRUSTED_PROXIES
    for what, window, key in (
        ("client", limits.per_client, client),
        ("ticket", limits.per_ticket, ticket_id),
    ):
        wait = window.retry_after(key, now)
        if wait is not None:
            raise TooManyRequests(
                f"Too many lookups for this {what}; try again in {wait} seconds.",
                retry_after=wait,
                field="ticket_id" if what == "ticket" else None,
            )


async def citizen_view(session: AsyncSession, ticket: Ticket) -> CitizenTicketOut:
    entries = await reads.timeline(session, ticket.id)
    return CitizenTicketOut(
        id=ticket.id,
        status=ticket.status,
        status_text=domain.STATUS_TEXT[ticket.status],
        title=ticket.title,
        category=ticket.category,
        received_at=china_time(ticket.received_at),
        handled_by=ticket.lead_unit_name,
        expected_at=china_time(ticket.expected_at),
        can_add_info=ticket.status in domain.STATUS_OPEN,
        timeline=[
            CitizenTimelineOut(at=china_time(e.at), text=domain.citizen_line(e.event_type, e.text))
            for e in entries
            if domain.citizen_line(e.event_type, e.text)
        ],
    )


@router.post("/lookup", response_model=CitizenTicketOut)
async def lookup(body: LookupIn, request: Request, session: Session) -> CitizenTicketOut:
    """citizen (no token; ticket number + phone): the ticket's progress in plain Chinese."""
    check_rate(request, body.ticket_id)
    ticket = await reads.ticket_for_citizen(session, body.ticket_id, body.phone)
    return await citizen_view(session, ticket)


@router.post(
    "/tickets/{ticket_id}/info", response_model=CitizenTicketOut, responses=problem_responses(409)
)
async def add_info(
    ticket_id: str, body: AddInfoIn, request: Request, session: Session, now: Now
) -> CitizenTicketOut:
    """citizen (no token; ticket number + phone): add information to an open ticket."""
    check_rate(request, ticket_id)
    async with session.begin():
        ticket = await reads.ticket_for_citizen(session, ticket_id, body.phone)
        await additions.add_info(
            session,
            ticket,
            source="citizen",
            text=body.text,
            attachments=body.attachments,
            now=now,
        )
    return await citizen_view(session, ticket)
