"""The envelope and the registry of payload types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import ValidationError

from shared.events import (
    Envelope,
    UnknownEventType,
    envelope,
    event,
    new_event,
    payload_model,
    registered,
)
from shared.events.envelope import Payload
from shared.events.routing import TicketDispatched

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DISPATCHED = TicketDispatched(
    assignment_id="A1",
    unit_id="U-BJ01-CG",
    unit_name="江北区城市管理委员会",
    role="lead",
    kind="complaint",
    urgency="ordinary",
    rule_id="R005",
    catalogue_version=1,
    dispatch_count=1,
)


def test_new_event_fills_the_envelope_from_the_payload_type() -> None:
    e = new_event(DISPATCHED, ticket_id="T1", producer="routing", occurred_at=AT)
    assert (e.type, e.version, e.ticket_id, e.producer) == ("ticket.dispatched", 1, "T1", "routing")
    assert isinstance(e.event_id, UUID)
    assert e.correlation_id == "T1"  # a ticket's events correlate by ticket unless told otherwise
    assert e.data() == DISPATCHED


def test_envelope_round_trips_through_json_keeping_chinese_readable() -> None:
    e = new_event(DISPATCHED, ticket_id="T1", producer="routing", occurred_at=AT)
    raw = e.to_json()
    assert "江北区城市管理委员会".encode() in raw  # UTF-8, not \\uXXXX
    assert Envelope.from_json(raw) == e


def test_two_events_never_share_an_id() -> None:
    ids = {
        new_event(DISPATCHED, ticket_id="T", producer="p", occurred_at=AT).event_id
        for _ in range(100)
    }
    assert len(ids) == 100


def test_envelope_refuses_naive_times() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        Envelope(
            type="ticket.closed",
            occurred_at=datetime(2026, 1, 1),
            ticket_id="T",
            producer="p",
            payload={"reason": "x"},
        )


def test_unknown_type_or_version_is_reported() -> None:
    with pytest.raises(UnknownEventType):
        payload_model("ticket.teleported", 1)
    with pytest.raises(UnknownEventType):
        payload_model("ticket.dispatched", 99)


def test_payload_is_validated_against_its_registered_model() -> None:
    e = new_event(DISPATCHED, ticket_id="T1", producer="routing", occurred_at=AT)
    broken = e.model_copy(update={"payload": {**e.payload, "role": "bystander"}})
    with pytest.raises(ValidationError, match="role"):
        broken.data()
    extra = e.model_copy(update={"payload": {**e.payload, "phone": "13800135678"}})
    with pytest.raises(ValidationError, match="phone"):
        extra.data()  # payloads forbid unknown fields: no personal data sneaks in


@pytest.mark.usefixtures("scratch_registry")
def test_registering_the_same_type_and_version_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):

        @event("ticket.dispatched", version=1)
        class Again(Payload):
            pass


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    saved = dict(envelope._REGISTRY)
    yield
    envelope._REGISTRY.clear()
    envelope._REGISTRY.update(saved)


@pytest.mark.usefixtures("scratch_registry")
def test_a_new_version_can_live_beside_the_old_one() -> None:
    @event("test.sample", version=1)
    class SampleV1(Payload):
        a: int

    @event("test.sample", version=2)
    class SampleV2(Payload):
        a: int
        b: str

    assert registered()[("test.sample", 1)] is SampleV1
    assert registered()[("test.sample", 2)] is SampleV2
