"""Events intake consumes, by payload class: it follows each ticket's progress for its
status, expected completion and timeline, a run of events at a time (`TakesRuns`), and learns
routing's areas for its gazetteer."""

from __future__ import annotations

from intake import directory, progress
from shared.events import Payload
from shared.events.callback import CallbackCompleted, TicketClosed, TicketReopened
from shared.events.routing import (
    AreaChanged,
    AssignmentContacted,
    AssignmentSigned,
    OwnershipDetermined,
    ProgressNoted,
    TicketDispatched,
    TicketKeySupervision,
    TicketReplied,
    WhistleBlown,
    WhistleReported,
)
from shared.events.sla import SlaBreached, TicketSupervised
from shared.runtime import Handlers, TakesRuns

FOLLOW = TakesRuns(progress.follow)
FOLLOWED: tuple[type[Payload], ...] = (
    TicketDispatched,
    AssignmentSigned,
    AssignmentContacted,
    TicketReplied,
    SlaBreached,
    CallbackCompleted,
    TicketClosed,
    TicketReopened,
    TicketKeySupervision,
    TicketSupervised,
    WhistleBlown,
    WhistleReported,
    OwnershipDetermined,
    ProgressNoted,
    *progress.DEADLINE_EVENTS,
)

HANDLERS: Handlers = {
    **{model: FOLLOW for model in FOLLOWED},
    AreaChanged: directory.learn_area,
}
