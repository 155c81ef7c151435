"""Events intake consumes: it follows each ticket's progress for its status, expected
completion and timeline, a run of events at a time (`TakesRuns`), and learns routing's areas
for its gazetteer."""

from __future__ import annotations

from intake import directory, progress
from shared.runtime import AnyHandler, TakesRuns

FOLLOW = TakesRuns(progress.follow)

HANDLERS: dict[str, AnyHandler] = {
    event_type: FOLLOW
    for event_type in (
        "ticket.dispatched",
        "assignment.signed",
        "assignment.contacted",
        "ticket.replied",
        "sla.breached",
        "callback.completed",
        "ticket.closed",
        "ticket.reopened",
        "ticket.key_supervision",
        "ticket.supervised",
        "whistle.blown",
        "ticket.ownership_determined",
        *progress.DEADLINE_EVENTS,
    )
}
HANDLERS["directory.area_changed"] = directory.learn_area
