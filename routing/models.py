"""routing's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "routing")
inbox = Inbox(metadata, "routing")


class Area(Base):
    """The administrative hierarchy: city › district › street/township › community › grid."""

    __tablename__ = "routing_areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))


class Unit(Base):
    """A handling unit (承办单位), tied to the area it serves."""

    __tablename__ = "routing_units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str] = mapped_column(ForeignKey("routing_areas.code"))


class Rule(Base):
    """A line of the responsibility catalogue (职责清单)."""

    __tablename__ = "routing_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[str] = mapped_column(Text, default="")  # "|"-separated
    lead_unit_id: Mapped[str] = mapped_column(ForeignKey("routing_units.id"))
    assist_unit_ids: Mapped[str] = mapped_column(Text, default="")  # "|"-separated
    catalogue_version: Mapped[int] = mapped_column(Integer, default=1)


class RoutedTicket(Base):
    """What routing knows of a ticket, from `ticket.received`."""

    __tablename__ = "routing_tickets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    received_at: Mapped[datetime] = mapped_column(Instant())


class Assignment(Base):
    """A unit's share of a ticket, as lead (主办) or assisting unit (协办)."""

    __tablename__ = "routing_assignments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("routing_units.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(64))
    catalogue_version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    dispatched_at: Mapped[datetime] = mapped_column(Instant())
    signed_at: Mapped[datetime | None] = mapped_column(Instant())
    contacted_at: Mapped[datetime | None] = mapped_column(Instant())
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    outcome: Mapped[str | None] = mapped_column(String(16))
    explanation: Mapped[str | None] = mapped_column(Text)


class ExtensionRequest(Base):
    """A unit's request for more time (延期申请); sla decides it."""

    __tablename__ = "routing_extension_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("routing_assignments.id"), index=True)
    requested_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Instant())
