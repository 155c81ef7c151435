"""Who did it (审计): every event names the staff member or service whose request caused it.

The authentication dependency records the caller of each request here; `new_event` writes it
into the envelope (`Envelope.actor`), so a ticket's events are its audit trail — dispatch,
return, reply, verdict, re-open, override — kept by analytics with the rest of the stream and
shown to supervisors (`GET /api/v1/analytics/tickets/{ticket_id}/audit`). Events a service emits
by itself, in reaction to another event or on a timer, have no actor: the platform did them.
A citizen is never named: their requests are recorded as `citizen`.
"""

from __future__ import annotations

from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("hotline_actor", default=None)


def acting(role: str, subject: str) -> None:
    """Record the caller of the request being handled (role and subject, e.g.
    `unit:unit-U-BJ0101`); a citizen only by role."""
    _actor.set(role if role == "citizen" else f"{role}:{subject}")


def actor() -> str | None:
    """Who caused what is being done now; None for the platform's own reactions."""
    return _actor.get()
