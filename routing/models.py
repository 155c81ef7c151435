"""routing's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.stamped import stamps_table


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "routing")
inbox = Inbox(metadata, "routing")
stamps = stamps_table(metadata, "routing")


class Area(Base):
    """The administrative hierarchy: city › district › street/township › community › grid."""

    __tablename__ = "routing_areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")  # "|"-separated
    # [[lng, lat], …] (WGS-84): intake resolves a report's area from its coordinates with it.
    boundary: Mapped[list[list[float]] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The directory version that last changed this row.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Unit(Base):
    """A handling unit (承办单位), tied to the area it serves."""

    __tablename__ = "routing_units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str] = mapped_column(ForeignKey("routing_areas.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class DirectoryVersion(Base):
    """One change to areas and units: a CRUD call or a bulk import."""

    __tablename__ = "routing_directory_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    areas: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(String(100))


class CatalogueVersion(Base):
    """A complete responsibility catalogue, in force from `effective_from` until the next."""

    __tablename__ = "routing_catalogue_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_from: Mapped[datetime] = mapped_column(Instant())
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    rule_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(String(100))


class Rule(Base):
    """A line of the responsibility catalogue (职责清单), in one catalogue version."""

    __tablename__ = "routing_catalogue_rules"

    version: Mapped[int] = mapped_column(
        ForeignKey("routing_catalogue_versions.version"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[str] = mapped_column(Text, default="")  # "|"-separated
    # A unit id, or "role:<unit kind>": that kind of unit in the ticket's area.
    lead: Mapped[str] = mapped_column(String(64))
    assists: Mapped[str] = mapped_column(Text, default="")  # "|"-separated, ids or roles
    mode: Mapped[str | None] = mapped_column(String(8))  # None: the configured default
    row: Mapped[int | None] = mapped_column(Integer)  # the row it came from in an import


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
    # domain.TicketStatus: queued (waiting in the dispatcher's queue) or dispatched (has a lead).
    status: Mapped[str] = mapped_column(
        String(16), default="dispatched", server_default="dispatched"
    )
    queued_reason: Mapped[str | None] = mapped_column(String(300))
    return_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    key_supervision_at: Mapped[datetime | None] = mapped_column(Instant())


class Assignment(Base):
    """A unit's share of a ticket, as lead (主办) or assisting unit (协办)."""

    __tablename__ = "routing_assignments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("routing_units.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(16))  # domain.AssignmentStatus
    rule_id: Mapped[str | None] = mapped_column(String(64))
    catalogue_version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    dispatched_at: Mapped[datetime] = mapped_column(Instant())
    signed_at: Mapped[datetime | None] = mapped_column(Instant())
    contacted_at: Mapped[datetime | None] = mapped_column(Instant())
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    outcome: Mapped[str | None] = mapped_column(String(16))
    explanation: Mapped[str | None] = mapped_column(Text)
    unsolvable_reason: Mapped[str | None] = mapped_column(Text)
    legal_path: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(8), default="direct", server_default="direct")
    basis: Mapped[str] = mapped_column(String(16), default="catalogue", server_default="catalogue")
    ended_at: Mapped[datetime | None] = mapped_column(Instant())
    timed_out_at: Mapped[datetime | None] = mapped_column(Instant())  # from sla.breached


class ExtensionRequest(Base):
    """A unit's request for more time (延期申请); sla decides it."""

    __tablename__ = "routing_extension_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("routing_assignments.id"), index=True)
    requested_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Instant())


class ProgressNote(Base):
    """办理进展: a note the unit adds while it works."""

    __tablename__ = "routing_progress_notes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("routing_assignments.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    noted_at: Mapped[datetime] = mapped_column(Instant())


class Addition(Base):
    """补充诉求: what the citizen (or an operator for them) added to the ticket after it was
    dispatched, as intake announced it (`ticket.info_added`), so the units handling it see it."""

    __tablename__ = "routing_additions"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # citizen, operator, repeat
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(Instant())


class ReplyTemplate(Base):
    """规范答复: a standard reply text for a category (and everything below it)."""

    __tablename__ = "routing_reply_templates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant())


class ReturnRequest(Base):
    """退单: a unit says the ticket is not its own; the centre approves or rejects."""

    __tablename__ = "routing_returns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("routing_assignments.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # domain.ReturnStatus
    previous_status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(Instant())
    decided_at: Mapped[datetime | None] = mapped_column(Instant())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_note: Mapped[str | None] = mapped_column(Text)
    redispatched_to: Mapped[str | None] = mapped_column(String(64))


class Determination(Base):
    """联合认定: the centre's decision on disputed ownership."""

    __tablename__ = "routing_determinations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    participants: Mapped[str] = mapped_column(Text)  # "|"-separated unit ids
    lead_unit_id: Mapped[str] = mapped_column(String(64))
    assist_unit_ids: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    catalogue_version: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(Instant())
    decided_by: Mapped[str] = mapped_column(String(100))


class Whistle(Base):
    """吹哨: a street or community summons departments to report on a ticket."""

    __tablename__ = "routing_whistles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("routing_tickets.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    blown_at: Mapped[datetime] = mapped_column(Instant())
    respond_by: Mapped[datetime] = mapped_column(Instant())


class WhistleSummons(Base):
    """报到: one summoned department and its report."""

    __tablename__ = "routing_whistle_summons"

    whistle_id: Mapped[str] = mapped_column(ForeignKey("routing_whistles.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    reported_at: Mapped[datetime | None] = mapped_column(Instant())
    report: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool | None] = mapped_column(Boolean)
