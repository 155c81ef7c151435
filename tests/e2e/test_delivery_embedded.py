"""At-least-once delivery made exactly-once, and dead letters, on the embedded bus."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from shared.bus import bus_log, bus_offsets
from shared.events import Envelope
from tests.slice import Clients, assignments_of, post_complaint
from tests.support import eventually


async def test_an_event_delivered_twice_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def dispatched() -> list[dict[str, object]] | None:
        found = await assignments_of(c, ticket_id)
        return found if len(found) == 2 else None

    await eventually(dispatched, what="dispatch")
    bus = app.state.bus
    async with bus.engine.connect() as conn:
        bodies = (await conn.execute(select(bus_log.c.body))).scalars().all()
    received = next(
        e
        for e in map(Envelope.model_validate_json, bodies)
        if e.type == "ticket.received" and e.ticket_id == ticket_id
    )
    await bus.publish([received])  # the same event id again
    async with bus.engine.connect() as conn:
        last = await conn.scalar(select(func.max(bus_log.c.offset)))

    async def routing_passed_it() -> bool:
        async with bus.engine.connect() as conn:
            done = await conn.scalar(
                select(bus_offsets.c.offset).where(bus_offsets.c.consumer == "routing")
            )
        return bool(done and done >= last)

    await eventually(routing_passed_it, what="routing to consume the duplicate")
    assert len(await assignments_of(c, ticket_id)) == 2
    assert await bus.dead_letters() == []


async def test_a_failing_event_is_retried_then_dead_lettered_without_blocking(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    c = Clients(client, client, client, client, client)
    # A ticket.dispatched for a ticket intake never received: intake's handler must fail.
    orphan = Envelope.model_validate(
        {
            "type": "ticket.dispatched",
            "occurred_at": "2026-11-23T02:00:00Z",
            "ticket_id": "NO-SUCH",
            "producer": "routing",
            "payload": {
                "assignment_id": "AX",
                "unit_id": "U-BJ0101",
                "unit_name": "长安街道办事处",
                "role": "lead",
                "kind": "complaint",
                "urgency": "ordinary",
                "rule_id": None,
                "catalogue_version": None,
                "dispatch_count": 1,
            },
        }
    )
    await app.state.bus.publish([orphan])
    letters = await eventually(app.state.bus.dead_letters, what="the dead letter")
    assert letters[0]["consumer"] == "intake"
    assert "NO-SUCH" in letters[0]["error"]
    # Later events still flow: the failing one did not block the log.
    ticket_id = (await post_complaint(c))["id"]

    async def dispatched() -> bool:
        return len(await assignments_of(c, ticket_id)) == 2

    await eventually(dispatched, what="a later ticket to flow")
