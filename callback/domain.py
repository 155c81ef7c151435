"""callback's rules (回访): pure functions, no database, no HTTP, no clock reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from shared.clock import china_time
from shared.errors import Conflict, DomainError, InvalidInput, Unauthorized


class CallbackStatus(StrEnum):
    """A callback's status (回访状态); the values are stored and shown as they are."""

    DUE = "due"  # 待回访: record a result, a failed attempt, a decline; send a rating link
    REVIEW = "review"  # 待复核: a citizen rated it negatively; an operator judges a re-open
    COMPLETED = "completed"  # 已回访: verdicts recorded (a supervisor may have it redone)
    UNREACHABLE = "unreachable"  # 联系不上: every attempt failed (excluded from the rates)
    EXCLUDED = "excluded"  # 不回访: anonymous, or the citizen declined


# What may be done in each status.
ACTIONS: dict[str, list[str]] = {
    CallbackStatus.DUE: ["record_result", "record_attempt", "decline", "rating_link"],
    CallbackStatus.REVIEW: ["decide"],
    CallbackStatus.COMPLETED: ["redo"],
    CallbackStatus.UNREACHABLE: [],
    CallbackStatus.EXCLUDED: [],
}

AttemptOutcome = Literal["no_answer", "busy", "powered_off", "wrong_number"]
Decision = Literal["reopen", "close"]


def ensure_allowed(status: str, action: str) -> None:
    if action not in ACTIONS.get(status, []):
        raise Conflict(
            f"Cannot {action.replace('_', ' ')} on a callback that is '{status}'.",
            status_now=status,
            allowed_actions=ACTIONS.get(status, []),
        )


def callback_id(ticket_id: str, round_: int) -> str:
    """One callback per ticket and handling round: the id says which."""
    return f"CB{ticket_id}-{round_}"


def operator_in_turn(existing: int, operators: Sequence[str]) -> str | None:
    """New callbacks go to the callback operators in turn."""
    return operators[existing % len(operators)] if operators else None


def not_solved_or_dissatisfied(solved: str, satisfaction: str) -> bool:
    """The verdicts that may re-open a ticket: not (fully) solved, or dissatisfied."""
    return solved != "solved" or satisfaction == "dissatisfied"


def decide(
    *, solved: str, satisfaction: str, reopen: bool, round_: int, max_reopens: int
) -> Decision:
    """重办 or 结案. Re-opening needs a negative verdict and the operator's judgement that the
    demand is reasonable, within the configured number of re-openings."""
    if not reopen:
        return "close"
    if not not_solved_or_dissatisfied(solved, satisfaction):
        raise InvalidInput(
            "reopen: a ticket the citizen calls solved and is satisfied with is not re-opened.",
            field="reopen",
        )
    if round_ > max_reopens:
        raise Conflict(
            f"reopen: this ticket was already re-opened {round_ - 1} times (limit {max_reopens}).",
            status_now="limit_reached",
            allowed_actions=["close"],
        )
    return "reopen"


def next_attempt_at(previous_attempt_at: datetime | None, spacing: timedelta) -> datetime | None:
    """回访重拨间隔 (the spacing between callback attempts): a due callback's first attempt may be
    made at any time; each later one only `spacing` after the previous failed attempt.
    None means "now is fine"."""
    return None if previous_attempt_at is None else previous_attempt_at + spacing


def ensure_attempt_allowed(
    previous_attempt_at: datetime | None, now: datetime, spacing: timedelta
) -> None:
    """Refuse a failed attempt recorded before the next allowed time (409 with that time and the
    seconds to wait), so that a callback cannot be run to "unreachable" in a few clicks. A
    verdict, a decline or a rating link stay allowed meanwhile."""
    allowed_at = next_attempt_at(previous_attempt_at, spacing)
    if previous_attempt_at is None or allowed_at is None or now >= allowed_at:
        return
    shown = china_time(allowed_at)
    raise Conflict(
        f"record attempt: the previous attempt failed at "
        f"{china_time(previous_attempt_at):%Y-%m-%d %H:%M}; the next attempt is allowed from "
        f"{shown:%Y-%m-%d %H:%M} (回访重拨间隔 {spacing.total_seconds() / 3600:g} h).",
        status_now=CallbackStatus.DUE,
        allowed_actions=[a for a in ACTIONS[CallbackStatus.DUE] if a != "record_attempt"],
        next_attempt_at=shown.isoformat(),
        retry_after=max(1, math.ceil((allowed_at - now).total_seconds())),
    )


def after_failed_attempt(
    attempts: int, max_attempts: int, now: datetime, spacing: timedelta
) -> tuple[CallbackStatus, datetime]:
    """Retry later, or close as unreachable once every attempt has failed."""
    if attempts >= max_attempts:
        return CallbackStatus.UNREACHABLE, now
    return CallbackStatus.DUE, now + spacing


class Gone(DomainError):
    status = 410
    title = "Gone"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signature(callback: str, expires: int, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{callback}.{expires}".encode(), hashlib.sha256).digest()
    return _b64(digest[:12])  # 16 characters: short enough for an SMS link


def rating_token(callback: str, expires_at: datetime, secret: str) -> str:
    """A self-rating token bound to one callback (ticket and round) that expires."""
    expires = int(expires_at.timestamp())
    return f"{callback}.{expires}.{_signature(callback, expires, secret)}"


def verify_rating_token(token: str, secret: str, now: datetime) -> str:
    """The callback id a token rates; forged → 401, expired → 410."""
    try:
        callback, expires_text, signature = token.rsplit(".", 2)
        expires = int(expires_text)
    except ValueError:
        raise Unauthorized("token: this rating link is malformed.", field="token") from None
    if not hmac.compare_digest(signature, _signature(callback, expires, secret)):
        raise Unauthorized("token: this rating link is not valid.", field="token")
    if now.timestamp() > expires:
        raise Gone(
            "token: this rating link has expired; the hotline will call you instead.", field="token"
        )
    return callback
