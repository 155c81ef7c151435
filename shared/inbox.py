"""Inbox: the event ids a consumer has handled, claimed in the same transaction as the effect.

Delivery is at-least-once; because the claim and the effect commit together, the effect
happens exactly once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Instant, dialect_name


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
        dialect = postgresql if dialect_name(session) == "postgresql" else sqlite
        statement = (
            dialect.insert(self.table)
            .values(
                consumer=consumer, event_id=str(event_id), event_type=event_type, processed_at=now
            )
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        )
        result = await session.execute(statement)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
