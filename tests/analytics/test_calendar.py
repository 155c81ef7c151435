"""Handling times count working days on sla's calendar, as analytics learned it from
`calendar.changed`: an override changes the handling time of tickets folded after it, and a
rebuild counts each ticket as it was counted."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from analytics.models import TicketFact
from analytics.rebuild import rebuild
from tests.analytics.streams import at, calendar_changed, deliver, dispatched, received, replied
from tests.support import SUPERVISOR

UNIT = "U-BJ0101"


def ticket(name: str) -> list[Any]:
    """Dispatched Monday 23 Nov 10:00, replied Wednesday 25 Nov 10:00: two working days on the
    published calendar."""
    return [
        *received(name, at(11, 23, 9)),
        *dispatched(name, f"{name}-a", UNIT, at(11, 23, 10)),
        *replied(name, f"{name}-a", UNIT, at(11, 25, 10)),
    ]


async def handling_days(app: FastAPI) -> dict[str, float | None]:
    async with app.state.runtimes["analytics"].sessionmaker() as session:
        rows = await session.execute(select(TicketFact.ticket_id, TicketFact.handling_days))
    return {ticket_id: days for ticket_id, days in rows}


async def test_an_override_changes_the_handling_time_of_tickets_folded_after_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, ticket("BEFORE"))
    # sla closes Tuesday 24 Nov (a local decision): not a working day any more.
    await deliver(app, [calendar_changed(at(11, 26, 9), overrides={date(2026, 11, 24): False})])
    await deliver(app, ticket("AFTER"))
    assert await handling_days(app) == {"BEFORE": 2.0, "AFTER": 1.0}

    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=SUPERVISOR,
    )
    assert r.json()["average_handling_days"] == {"value": 1.5, "total": 3.0, "count": 2}

    # The calendar is kept and replayed: a rebuild counts each ticket as it was counted.
    await rebuild(app.state.runtimes["analytics"].sessionmaker)
    assert await handling_days(app) == {"BEFORE": 2.0, "AFTER": 1.0}
    # The override removed again: tickets folded from now on count Tuesday once more.
    await deliver(app, [calendar_changed(at(11, 27, 9))])
    await deliver(app, ticket("LATER"))
    assert (await handling_days(app))["LATER"] == 2.0
