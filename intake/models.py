"""intake's tables. The citizen's name and phone live here and nowhere else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "intake")
inbox = Inbox(metadata, "intake")


class Ticket(Base):
    __tablename__ = "intake_tickets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    area_code: Mapped[str | None] = mapped_column(String(32))
    citizen_name: Mapped[str | None] = mapped_column(String(64))
    citizen_phone: Mapped[str | None] = mapped_column(String(32))
    citizen_ref: Mapped[str | None] = mapped_column(String(64))
    anonymous: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    lead_unit_id: Mapped[str | None] = mapped_column(String(64))
    lead_unit_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(Instant(), index=True)
    updated_at: Mapped[datetime] = mapped_column(Instant())


class TimelineEntry(Base):
    """One line of the ticket's history, in the Chinese a citizen or operator reads."""

    __tablename__ = "intake_timeline"
    __table_args__ = (Index("ix_intake_timeline_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("intake_tickets.id"))
    at: Mapped[datetime] = mapped_column(Instant())
    event_type: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(500))


class Area(Base):
    """The gazetteer (地名库): districts, streets and communities with their aliases."""

    __tablename__ = "intake_areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    aliases: Mapped[str] = mapped_column(Text, default="")  # "|"-separated
