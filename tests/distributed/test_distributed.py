"""The vertical slice and the delivery guarantees with the services as separate processes on
PostgreSQL (asyncpg) and a Kafka-protocol broker (aiokafka)."""

from __future__ import annotations

import asyncio
import signal
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


async def test_a_paused_broker_holds_no_database_transaction(
    stack: LocalStack, clients: Clients
) -> None:
    """A hung broker (SIGSTOP: connections open, nothing answered) used to keep each outbox
    relay's transaction open while it waited on the broker, holding pooled connections that
    intake's accepts needed (docs/faults.md). Now every service's database has no transaction
    left open meanwhile, tickets are accepted at once, and they flow when the broker resumes."""
    broker = stack.processes["broker"]
    watchers = {
        name: await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{stack.database(name)}")
        for name in stack.names
    }
    loop = asyncio.get_running_loop()
    posted: list[str] = []
    held: list[tuple[str, str, str]] = []
    broker.send_signal(signal.SIGSTOP)
    try:
        for n in range(3):
            started = loop.time()
            citizen = {"name": "李女士", "phone": f"1390000{uuid.uuid4().int % 10_000:04d}"}
            posted.append((await post_complaint(clients, citizen=citizen))["id"])
            assert loop.time() - started < 5, f"accept {n} took {loop.time() - started:.1f} s"
        for _ in range(8):  # 4 s: a relay waiting on the broker in a transaction shows up
            await asyncio.sleep(0.5)
            for name, conn in watchers.items():
                rows = await conn.fetch(
                    "SELECT application_name, state FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%' "
                    "AND now() - xact_start > interval '2 seconds'"
                )
                held += [(name, r["application_name"], r["state"]) for r in rows]
        relays = await watchers["intake"].fetch(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'outbox-relay-intake'"
        )
    finally:
        broker.send_signal(signal.SIGCONT)
        for conn in watchers.values():
            await conn.close()
    assert held == []
    assert [r["state"] for r in relays] == ["idle"]  # its own connection, no transaction

    async def all_dispatched() -> bool:
        return all([(await ticket(clients, t))["status"] == "dispatched" for t in posted])

    await eventually(all_dispatched, timeout=120, what="the tickets to flow after the pause")
