"""callback's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "callback")
inbox = Inbox(metadata, "callback")


class CallbackTicket(Base):
    """What callback knows of a ticket: whether it may call the citizen back at all."""

    __tablename__ = "callback_tickets"

    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    anonymous: Mapped[bool]
    declined: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(32))


class CallbackTask(Base):
    """One callback per handling round of a ticket (see domain.ACTIONS for its statuses)."""

    __tablename__ = "callback_tasks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round"),
        Index("ix_callback_tasks_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8), default="reply", server_default="reply")
    lead_unit_id: Mapped[str | None] = mapped_column(String(64))
    reply_outcome: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    exclusion_reason: Mapped[str | None] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(Instant())
    due_at: Mapped[datetime] = mapped_column(Instant())
    completed_at: Mapped[datetime | None] = mapped_column(Instant())
    channel: Mapped[str | None] = mapped_column(String(16))
    contacted_by_unit: Mapped[bool | None]
    solved: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    redo_reason: Mapped[str | None] = mapped_column(Text)


class CallbackAttempt(Base):
    """A call that did not reach the citizen."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[str] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    at: Mapped[datetime] = mapped_column(Instant())
    operator: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
