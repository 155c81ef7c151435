"""callback's rules. Pure functions."""

from __future__ import annotations

from shared.errors import Conflict

# The callback task's workflow: status → actions allowed.
ACTIONS = {"due": ["record_result"], "completed": []}


def ensure_open(status: str) -> None:
    if status != "due":
        raise Conflict(
            f"This callback is already {status}; its result cannot be recorded again.",
            status_now=status,
            allowed_actions=ACTIONS.get(status, []),
        )


def callback_id(ticket_id: str, round_: int) -> str:
    """One callback per ticket and handling round: the id says which."""
    return f"CB{ticket_id}-{round_}"
