"""The event envelope every lifecycle event travels in, and the registry of payload types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared import audit, tracing
from shared.ids import time_ordered_uuid


class Payload(BaseModel):
    """Base of every event payload; subclasses are registered with `@event`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]
    version: ClassVar[int]


class UnknownEventType(LookupError):
    pass


_REGISTRY: dict[tuple[str, int], type[Payload]] = {}

P = TypeVar("P", bound=type[Payload])


def event(type_: str, version: int = 1):  # type: ignore[no-untyped-def]
    """Register a payload model as the schema of `type_` at `version`."""

    def register(cls: P) -> P:
        key = (type_, version)
        if key in _REGISTRY:
            raise ValueError(f"event {type_} v{version} registered twice")
        cls.event_type = type_
        cls.version = version
        _REGISTRY[key] = cls
        return cls

    return register


def payload_model(type_: str, version: int) -> type[Payload]:
    try:
        return _REGISTRY[(type_, version)]
    except KeyError:
        raise UnknownEventType(f"no payload model for {type_} v{version}") from None


def registered() -> dict[tuple[str, int], type[Payload]]:
    return dict(_REGISTRY)


class Envelope(BaseModel):
    """What travels on `tickets.lifecycle` (key = ticket id)."""

    model_config = ConfigDict(frozen=True)

    # In time order: the outboxes' and inboxes' unique indexes on it grow at one end (shared/ids).
    event_id: UUID = Field(default_factory=time_ordered_uuid)
    type: str
    version: int = 1
    occurred_at: AwareDatetime
    ticket_id: str
    producer: str
    correlation_id: str | None = None
    payload: dict[str, Any]
    # W3C trace context (`traceparent`) of the use case that produced the event, so a consumer
    # continues the same trace (shared.tracing); None when nothing is traced.
    trace_context: dict[str, str] | None = None
    # Who caused it (审计): a staff member's or service's `role:subject`, `citizen`, or None
    # when the platform reacted by itself (shared.audit).
    actor: str | None = None

    def data(self) -> Payload:
        """The payload parsed by its registered model (raises on unknown types or bad data)."""
        return payload_model(self.type, self.version).model_validate(self.payload)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)


def new_event(
    payload: Payload,
    *,
    ticket_id: str,
    producer: str,
    occurred_at: datetime,
    correlation_id: str | None = None,
) -> Envelope:
    return Envelope(
        type=payload.event_type,
        version=payload.version,
        occurred_at=occurred_at,
        ticket_id=ticket_id,
        producer=producer,
        correlation_id=correlation_id or ticket_id,
        payload=payload.model_dump(mode="json"),
        trace_context=tracing.carrier(),
        actor=audit.actor(),
    )


E = TypeVar("E", bound=Payload, covariant=True)


@dataclass(frozen=True, slots=True)
class Event(Generic[E]):
    """An event as a handler receives it: its envelope, and its payload parsed once, by the
    runtime, into the model registered for its type and version."""

    envelope: Envelope
    data: E

    @property
    def event_id(self) -> UUID:
        return self.envelope.event_id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def ticket_id(self) -> str:
        return self.envelope.ticket_id

    @property
    def occurred_at(self) -> datetime:
        return self.envelope.occurred_at

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlation_id

    @staticmethod
    def of(envelope: Envelope) -> Event[Payload]:
        """Parse the envelope's payload by its registered model (raises on unknown types or
        bad data)."""
        return Event(envelope, envelope.data())
