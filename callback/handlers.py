"""Events callback consumes, by payload class."""

from __future__ import annotations

from callback import service
from shared.events.intake import TicketAnswered, TicketReceived
from shared.events.routing import TicketReplied
from shared.runtime import Handlers

HANDLERS: Handlers = {
    TicketReceived: service.note_ticket,
    TicketReplied: service.open_after_reply,
    TicketAnswered: service.open_after_answer,
}
