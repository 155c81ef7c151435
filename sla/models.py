"""sla's tables: tickets as sla knows them, clocks (per assignment and per ticket round), their
timers indexed by due time, history, policies, the calendar, extensions and supervision cases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.stamped import stamps_table
from sla.domain import CaseStatus, ExtensionStatus, TicketStatus, TimerState


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "sla")
inbox = Inbox(metadata, "sla")
stamps = stamps_table(metadata, "sla")


class SlaTicket(Base):
    """What sla needs of a ticket, from `ticket.received` and `ticket.dispatched`; `status` is a
    `TicketStatus`."""

    __tablename__ = "sla_tickets"
    __table_args__ = (Index("ix_sla_tickets_matter", "category", "area_code", "received_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(128), default="")
    urgency: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(32))
    citizen_ref: Mapped[str | None] = mapped_column(String(64))  # a pseudonym, for clusters
    received_at: Mapped[datetime] = mapped_column(Instant())
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.OPEN)
    round: Mapped[int] = mapped_column(Integer, default=1)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(Instant())


class DeadlineClock(Base):
    """A deadline clock (时限): `scope` assignment (the unit's three stages, id `K<assignment>`)
    or ticket (the round's overall completion deadline, id `T<ticket>-R<round>`). `status`: a
    `ClockStatus` (open, or how it stopped). Instants are stored in UTC and computed in
    `time_zone`. Not `Clock`: that is the time source, shared.clock.Clock."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index("ix_sla_clocks_status_ticket", "status", "ticket_id"),
        # One unit's clocks of one matter since a day: the complaints against it (重复投诉,
        # supervising.complaints_against), read on a complaint's dispatch.
        Index("ix_sla_clocks_unit_matter", "unit_id", "category", "area_code", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    assignment_id: Mapped[str] = mapped_column(String(40), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    policy: Mapped[str] = mapped_column(String(48))
    started_at: Mapped[datetime] = mapped_column(Instant())
    scope: Mapped[str] = mapped_column(String(10), server_default="assignment")
    round: Mapped[int] = mapped_column(Integer, server_default="1")
    role: Mapped[str] = mapped_column(String(8), server_default="lead")
    status: Mapped[str] = mapped_column(String(12), server_default="open")  # ClockStatus.OPEN
    kind: Mapped[str] = mapped_column(String(16), server_default="complaint")
    urgency: Mapped[str] = mapped_column(String(16), server_default="ordinary")
    category: Mapped[str] = mapped_column(String(128), server_default="")
    area_code: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_class: Mapped[str | None] = mapped_column(String(16))
    extension_days: Mapped[int] = mapped_column(Integer, server_default="0")
    extension_count: Mapped[int] = mapped_column(Integer, server_default="0")
    time_zone: Mapped[str] = mapped_column(String(32), server_default="Asia/Shanghai")
    closed_at: Mapped[datetime | None] = mapped_column(Instant())


class Timer(Base):
    """A deadline or a reminder of a clock's stage, indexed by due time. `state`, a
    `TimerState`: armed → fired, stopped (the stage ended first) or skipped (a reminder whose
    deadline had passed). A deadline's `stopped_at` also records a late finish after it fired."""

    __tablename__ = "sla_timers"
    # By due time, the armed ones (the engine's work) and the fired ones (the overdue list):
    # partial, so that a claim by primary key is not read through an index of every armed
    # timer (sla/migrations/versions/0005).
    __table_args__ = (
        Index(
            "ix_sla_timers_armed",
            "due_at",
            sqlite_where=text("state = 'armed'"),
            postgresql_where=text("state = 'armed'"),
        ),
        Index(
            "ix_sla_timers_fired",
            "due_at",
            sqlite_where=text("state = 'fired'"),
            postgresql_where=text("state = 'fired'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clock_id: Mapped[str] = mapped_column(ForeignKey("sla_clocks.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(Instant())
    state: Mapped[str] = mapped_column(String(8), default=TimerState.ARMED)
    stopped_at: Mapped[datetime | None] = mapped_column(Instant())
    fired_at: Mapped[datetime | None] = mapped_column(Instant())
    kind: Mapped[str] = mapped_column(String(8), server_default="deadline")
    threshold: Mapped[str] = mapped_column(String(12), server_default="")
    deadline_at: Mapped[datetime | None] = mapped_column(Instant())
    generation: Mapped[int] = mapped_column(Integer, server_default="0")


class ClockHistory(Base):
    """What happened to a ticket's clocks, in order."""

    __tablename__ = "sla_clock_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    clock_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(Instant())
    what: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(String(255), default="")


class PolicyVersion(Base):
    """One version of a deadline policy; a clock uses the versions in force when it started."""

    __tablename__ = "sla_policies"
    __table_args__ = (Index("uq_sla_policies_code_version", "code", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64), default="")
    urgency: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(128))
    unit_class: Mapped[str | None] = mapped_column(String(16))
    sign_amount: Mapped[float] = mapped_column(Float)
    sign_unit: Mapped[str] = mapped_column(String(16))
    response_amount: Mapped[float] = mapped_column(Float)
    response_unit: Mapped[str] = mapped_column(String(16))
    completion_amount: Mapped[float] = mapped_column(Float)
    completion_unit: Mapped[str] = mapped_column(String(16))
    reminders: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    effective_from: Mapped[datetime] = mapped_column(Instant())
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(Instant())
    created_by: Mapped[str] = mapped_column(String(64))


class CalendarYear(Base):
    """A year whose official schedule was loaded through the API."""

    __tablename__ = "sla_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(255), default="")
    loaded_at: Mapped[datetime] = mapped_column(Instant())


class CalendarDay(Base):
    """A day of a loaded schedule (`source` schedule) or a single-day override."""

    __tablename__ = "sla_calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(10), primary_key=True)  # schedule, override
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(Instant())


class CalendarSetting(Base):
    """Calendar settings by key (`working_hours`: JSON list of [start, end])."""

    __tablename__ = "sla_calendar_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Instant())


class Extension(Base):
    """A unit's extension request (延期申请) and the centre's decision; `status` is an
    `ExtensionStatus`."""

    __tablename__ = "sla_extensions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    assignment_id: Mapped[str] = mapped_column(String(40), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    requested_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Instant())
    status: Mapped[str] = mapped_column(String(10), default=ExtensionStatus.PENDING)
    days: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(Instant())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    complete_by_before: Mapped[datetime | None] = mapped_column(Instant())
    complete_by_after: Mapped[datetime | None] = mapped_column(Instant())


class SupervisionCase(Base):
    """A supervision case (督办) on a ticket; its level rises while nothing happens. `status` is a
    `CaseStatus`."""

    __tablename__ = "sla_supervision_cases"
    __table_args__ = (Index("ix_sla_supervision_cases_due", "status", "next_escalation_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    area_code: Mapped[str | None] = mapped_column(String(32))
    matter: Mapped[str | None] = mapped_column(String(180))
    related: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of ticket ids
    opened_at: Mapped[datetime] = mapped_column(Instant())
    last_activity_at: Mapped[datetime] = mapped_column(Instant())
    escalated_at: Mapped[datetime | None] = mapped_column(Instant())
    next_escalation_at: Mapped[datetime | None] = mapped_column(Instant())
    resolved_at: Mapped[datetime | None] = mapped_column(Instant())
    resolution: Mapped[str | None] = mapped_column(String(255))
