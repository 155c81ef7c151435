"""Lifecycle events: the envelope, the registry and one module of payload types per producer.

Importing this package registers every payload type.
"""

from shared.events import callback, intake, routing, sla
from shared.events.envelope import (
    Envelope,
    Event,
    Payload,
    UnknownEventType,
    event,
    new_event,
    payload_model,
    registered,
)

__all__ = [
    "Envelope",
    "Event",
    "Payload",
    "UnknownEventType",
    "callback",
    "event",
    "intake",
    "new_event",
    "payload_model",
    "registered",
    "routing",
    "sla",
]
