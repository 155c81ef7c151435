"""Events callback consumes, by payload class; receipts, one a ticket, a run at a time."""

from __future__ import annotations

from callback import service
from shared.events.intake import TicketAnswered, TicketReceived
from shared.events.routing import TicketReplied
from shared.runtime import Handlers

HANDLERS: Handlers = {
    TicketReceived: service.NOTE_TICKETS,
    TicketReplied: service.open_after_reply,
    TicketAnswered: service.open_after_answer,
}
