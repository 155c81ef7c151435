"""Today at the centre (今日态势), for the big screen: reports received by hour of a day and
the tickets still open (在办). Read from the ticket facts, so they move with every event."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.domain import period_bounds
from analytics.models import TicketFact

HOURS = 24


async def received_by_hour(session: AsyncSession, day: date) -> list[int]:
    """Tickets received in each hour (China time) of the day, 0:00–1:00 first. One pass over
    the day's rows (received_at is indexed), an hour's bucket a CASE, in either dialect."""
    start, _ = period_bounds(day, day)
    hours = [start + timedelta(hours=h) for h in range(HOURS + 1)]
    buckets = [
        func.coalesce(
            func.sum(
                case(
                    (and_(TicketFact.received_at >= low, TicketFact.received_at < high), 1),
                    else_=0,
                )
            ),
            0,
        )
        for low, high in pairwise(hours)
    ]
    row = (
        await session.execute(
            select(*buckets).where(
                TicketFact.received_at >= hours[0], TicketFact.received_at < hours[-1]
            )
        )
    ).one()
    return [int(n) for n in row]


async def open_tickets(session: AsyncSession) -> int:
    """Tickets received and not closed yet (在办)."""
    count = await session.scalar(
        select(func.count()).select_from(TicketFact).where(TicketFact.closed_at.is_(None))
    )
    return int(count or 0)
