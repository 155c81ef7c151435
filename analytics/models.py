"""analytics' read model: one fact row per ticket and per assignment, filled from events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "analytics")
inbox = Inbox(metadata, "analytics")


class TicketFact(Base):
    __tablename__ = "analytics_tickets"

    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    received_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(32))
    lead_unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    callback_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    solved: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    closed_at: Mapped[datetime | None] = mapped_column(Instant())


class AssignmentFact(Base):
    __tablename__ = "analytics_assignments"

    assignment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(8))
    dispatched_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    signed_at: Mapped[datetime | None] = mapped_column(Instant())
    contacted_at: Mapped[datetime | None] = mapped_column(Instant())
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    sign_by: Mapped[datetime | None] = mapped_column(Instant())
    respond_by: Mapped[datetime | None] = mapped_column(Instant())
    complete_by: Mapped[datetime | None] = mapped_column(Instant())
