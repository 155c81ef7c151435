"""callback's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "callback")
inbox = Inbox(metadata, "callback")


class CallbackTask(Base):
    """One callback per handling round of a ticket."""

    __tablename__ = "callback_tasks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round"),
        Index("ix_callback_tasks_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer)
    lead_unit_id: Mapped[str | None] = mapped_column(String(64))
    reply_outcome: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # due → completed
    created_at: Mapped[datetime] = mapped_column(Instant())
    due_at: Mapped[datetime] = mapped_column(Instant())
    completed_at: Mapped[datetime | None] = mapped_column(Instant())
    contacted_by_unit: Mapped[bool | None]
    solved: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(String(64))
