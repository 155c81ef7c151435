"""Events routing consumes, by payload class."""

from __future__ import annotations

from routing import additions, receiving, rehandling, workflow
from shared.events.callback import TicketReopened
from shared.events.intake import InfoAdded, RepeatLinked, TicketReceived
from shared.events.sla import SlaBreached
from shared.runtime import Handlers

HANDLERS: Handlers = {
    # A run of receipts at a time: the one event routing gets for every ticket.
    TicketReceived: receiving.RECEIVE,
    TicketReopened: rehandling.reopen,
    # An assisting unit whose completion deadline breached no longer holds up the lead.
    SlaBreached: workflow.assistant_breached,
    # What the citizen adds later (补充诉求) is shown to the units with the ticket.
    InfoAdded: additions.record_addition,
    RepeatLinked: additions.record_repeat,  # the citizen asked again (重复诉求)
}
