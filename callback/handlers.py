"""Events callback consumes."""

from __future__ import annotations

from callback import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {
    "ticket.received": service.note_ticket,
    "ticket.replied": service.open_after_reply,
    "ticket.answered": service.open_after_answer,
}
