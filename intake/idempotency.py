"""Retries (重复提交): a gateway that retries a report gets the first answer back, not a second
ticket. A retry is recognised by its Idempotency-Key (per sender, and only with the same body)
or by the channel's own message id (the same message, whatever the gateway re-sent)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import IdempotencyRecord
from shared.errors import InvalidInput


class RetryKey(NamedTuple):
    key: str
    # An Idempotency-Key promises the same request: another body under it is refused. A channel
    # message id names the message, so another body under it is still that message.
    same_body: bool


def request_hash(body: Any) -> str:
    """The body's fingerprint, to tell a retry from a reused Idempotency-Key."""
    return hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def retry_keys(
    *, sender: str, idempotency_key: str | None, channel: str, message_id: str | None
) -> list[RetryKey]:
    """The keys a report is remembered by: its sender's Idempotency-Key, its channel message id."""
    keys = []
    if idempotency_key:
        keys.append(RetryKey(f"key:{sender}:{idempotency_key}", True))
    if message_id:
        keys.append(RetryKey(f"msg:{channel}:{message_id}", False))
    return keys


async def first_answer(
    session: AsyncSession, keys: list[RetryKey], body_hash: str
) -> IdempotencyRecord | None:
    """What the first request with one of these keys became, if there was one; a reused
    Idempotency-Key with another body is refused."""
    for key, same_body in keys:
        record = await session.get(IdempotencyRecord, key)
        if record is None:
            continue
        if same_body and record.request_hash != body_hash:
            raise InvalidInput(
                "Idempotency-Key: this key was used for a different request; use a new key "
                "for a new report.",
                field="Idempotency-Key",
            )
        return record
    return None


def remember(
    session: AsyncSession,
    keys: list[RetryKey],
    body_hash: str,
    *,
    ticket_id: str,
    repeat_id: str | None,
    now: datetime,
) -> None:
    """Remember what the report became under each of its keys, in the report's transaction (two
    racing retries: the loser's insert fails and it finds the winner's)."""
    for key, _ in keys:
        session.add(
            IdempotencyRecord(
                key=key,
                request_hash=body_hash,
                ticket_id=ticket_id,
                repeat_id=repeat_id,
                created_at=now,
            )
        )
