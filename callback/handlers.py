"""Events callback consumes."""

from __future__ import annotations

from callback import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {
    "ticket.replied": service.open_callback,
}
