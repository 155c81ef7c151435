"""Events accounts consumes, by payload class: the units routing announces (unit accounts
must name a unit of the directory)."""

from __future__ import annotations

from accounts import service
from shared.events.routing import UnitChanged
from shared.runtime import Handlers

HANDLERS: Handlers = {UnitChanged: service.note_unit}
