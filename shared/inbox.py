"""Inbox: the event ids a consumer has handled, claimed in the same transaction as the effect.

Delivery is at-least-once; because the claim and the effect commit together, the effect
happens exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Instant, insert_for


class Inbox:
    def __init__(self, metadata: MetaData, service: str) -> None:
        self.table = Table(
            f"{service}_inbox",
            metadata,
            Column("consumer", String(64), primary_key=True),
            Column("event_id", String(36), primary_key=True),
            Column("event_type", String(64), nullable=False),
            Column("processed_at", Instant(), nullable=False),
        )

    async def claim(
        self,
        session: AsyncSession,
        *,
        consumer: str,
        event_id: UUID,
        event_type: str,
        now: datetime,
    ) -> bool:
        """Record the event as handled by `consumer`; False if it already was."""
        claimed = await self.claim_all(
            session, consumer=consumer, events=[(event_id, event_type)], now=now
        )
        return event_id in claimed

    async def claim_all(
        self,
        session: AsyncSession,
        *,
        consumer: str,
        events: Sequence[tuple[UUID, str]],
        now: datetime,
    ) -> set[UUID]:
        """Record the `(event_id, event_type)`s as handled by `consumer` in one statement; the
        ids that were not already (RETURNING yields only the rows the statement inserted).

        Four bound parameters per event: keep a call under ~5,000 events, within what SQLite
        and asyncpg accept in one statement."""
        if not events:
            return set()
        statement = (
            insert_for(session, self.table)
            .values(
                [
                    {
                        "consumer": consumer,
                        "event_id": str(event_id),
                        "event_type": event_type,
                        "processed_at": now,
                    }
                    for event_id, event_type in events
                ]
            )
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(self.table.c.event_id)
        )
        return {UUID(event_id) for event_id in await session.scalars(statement)}
