"""The vertical slice and the delivery guarantees with the services as separate processes on
PostgreSQL (asyncpg) and a Kafka-protocol broker (aiokafka)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.stack import LocalStack
from shared.events import Envelope
from tests.distributed.proxy import CuttableProxy
from tests.slice import Clients, assignments_of, post_complaint, run_vertical_slice, ticket
from tests.support import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.broker]
TOPIC = "tickets.lifecycle"


async def test_vertical_slice_across_five_processes(clients: Clients) -> None:
    final = await run_vertical_slice(clients, timeout=60)
    assert final["status"] == "closed"


async def _find_event(stack: LocalStack, ticket_id: str, event_type: str) -> tuple[bytes, Envelope]:
    """Read the topic from the start, as a throwaway consumer group, to find one event."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=stack.bootstrap,
        group_id=f"probe-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def search() -> tuple[bytes, Envelope] | None:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    envelope = Envelope.from_json(record.value)
                    if envelope.ticket_id == ticket_id and envelope.type == event_type:
                        return record.value, envelope
            return None

        return await eventually(search, timeout=30, what=f"{event_type} on the topic")
    finally:
        await consumer.stop()


async def _committed(stack: LocalStack, group: str, partition: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[partition])
        meta = offsets.get(partition)
        return meta.offset if meta else -1
    finally:
        await admin.close()


async def test_an_event_delivered_twice_changes_nothing(
    stack: LocalStack, clients: Clients
) -> None:
    ticket_id = (await post_complaint(clients))["id"]

    async def dispatched() -> list[dict[str, object]] | None:
        found = await assignments_of(clients, ticket_id)
        return found if len(found) == 2 else None

    await eventually(dispatched, timeout=60, what="dispatch")
    raw, envelope = await _find_event(stack, ticket_id, "ticket.received")

    # Redeliver the very same event, as a broker would after a lost commit.
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(TOPIC, raw, key=ticket_id.encode())
    finally:
        await producer.stop()
    partition = TopicPartition(TOPIC, sent.partition)

    async def routing_consumed_it() -> bool:
        return await _committed(stack, "routing", partition) > sent.offset

    await eventually(routing_consumed_it, timeout=60, what="routing to consume the duplicate")
    assert len(await assignments_of(clients, ticket_id)) == 2  # not dispatched twice

    conn = await asyncpg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{stack.database('routing')}"
    )
    try:
        claims = await conn.fetchval(
            "SELECT count(*) FROM routing_inbox WHERE event_id = $1", str(envelope.event_id)
        )
    finally:
        await conn.close()
    assert claims == 1


async def test_outbox_holds_events_while_the_broker_is_down(
    stack: LocalStack, clients: Clients, broker_link: CuttableProxy
) -> None:
    broker_link.cut()
    ticket_id = (await post_complaint(clients))["id"]  # intake still accepts: its database is up

    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{stack.database('intake')}")
    try:
        await asyncio.sleep(2.0)  # relay attempts fail meanwhile
        held = await conn.fetchval(
            "SELECT count(*) FROM intake_outbox WHERE ticket_id = $1 AND published_at IS NULL",
            ticket_id,
        )
        assert held == 1
        assert (await ticket(clients, ticket_id))["status"] == "received"

        broker_link.restore()

        async def dispatched() -> bool:
            return (await ticket(clients, ticket_id))["status"] == "dispatched"

        await eventually(
            dispatched, timeout=90, what="the held event to flow once the broker is back"
        )
        published = await conn.fetchval(
            "SELECT count(*) FROM intake_outbox WHERE ticket_id = $1 AND published_at IS NOT NULL",
            ticket_id,
        )
        assert published == 1
    finally:
        await conn.close()
