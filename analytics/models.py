"""analytics' tables: the events it consumed (to rebuild from), one fact row per ticket and per
assignment, the daily aggregates and their monthly roll-up, the directory and the calendar it
learned from routing's and sla's events, and the formula versions it owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from analytics.rates import COUNT_NAMES
from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.stamped import stamps_table


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "analytics")
inbox = Inbox(metadata, "analytics")
# The directory and the calendar are read by every query and change rarely (shared.stamped).
stamps = stamps_table(metadata, "analytics")


class StoredEvent(Base):
    """Every event analytics consumed, in arrival order: the source a rebuild replays."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_ticket_seq", "ticket_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(Instant())
    body: Mapped[str] = mapped_column(Text)


class TicketFact(Base):
    """One row per ticket with every lifecycle time (see analytics.facts.TicketState)."""

    __tablename__ = "analytics_tickets"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(32))
    citizen_ref: Mapped[str | None] = mapped_column(String(128))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(Instant())
    round: Mapped[int] = mapped_column(Integer, default=1)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    replied_round: Mapped[int] = mapped_column(Integer, default=0)
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    reply_assignment_id: Mapped[str | None] = mapped_column(String(40))
    reply_outcome: Mapped[str | None] = mapped_column(String(16))
    callback_round: Mapped[int] = mapped_column(Integer, default=0)
    callback_revision: Mapped[int] = mapped_column(Integer, default=0)
    callback_status: Mapped[str | None] = mapped_column(String(16))
    callback_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    callback_unit_id: Mapped[str | None] = mapped_column(String(64))
    not_callable_reason: Mapped[str | None] = mapped_column(String(32))
    contacted_by_unit: Mapped[bool | None] = mapped_column(Boolean)
    solved: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    closed_at: Mapped[datetime | None] = mapped_column(Instant())
    close_reason: Mapped[str | None] = mapped_column(String(200))
    supervised_count: Mapped[int] = mapped_column(Integer, default=0)
    lead_assignment_id: Mapped[str | None] = mapped_column(String(40))
    lead_unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    first_dispatched_at: Mapped[datetime | None] = mapped_column(Instant())
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    assist_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_on_time: Mapped[bool] = mapped_column(Boolean, default=False)
    handling_days: Mapped[float | None] = mapped_column(Float)


class AssignmentFact(Base):
    """One row per assignment (派单) with its times and deadlines met or missed."""

    __tablename__ = "analytics_assignments"

    assignment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(8))
    round: Mapped[int] = mapped_column(Integer, default=1)
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_at: Mapped[datetime | None] = mapped_column(Instant(), index=True)
    signed_at: Mapped[datetime | None] = mapped_column(Instant())
    contacted_at: Mapped[datetime | None] = mapped_column(Instant())
    replied_at: Mapped[datetime | None] = mapped_column(Instant())
    outcome: Mapped[str | None] = mapped_column(String(16))
    returned_at: Mapped[datetime | None] = mapped_column(Instant())
    return_reason: Mapped[str | None] = mapped_column(String(64))
    extension_requests: Mapped[int] = mapped_column(Integer, default=0)
    sign_by: Mapped[datetime | None] = mapped_column(Instant())
    respond_by: Mapped[datetime | None] = mapped_column(Instant())
    complete_by: Mapped[datetime | None] = mapped_column(Instant())
    sign_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    completion_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    responded_on_time: Mapped[bool] = mapped_column(Boolean, default=False)


class Unit(Base):
    """A handling unit (承办单位) as analytics learned it: from `directory.unit_changed` (the
    whole state, replaced) and from `ticket.dispatched` (its name, and its class when the event
    carries one), whichever arrived last. `unit_class` is None until an event names it."""

    __tablename__ = "analytics_units"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    unit_class: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(32))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class Area(Base):
    """An area (区域) as routing's `directory.area_changed` last described it. Retired areas
    stay: old tickets still name them."""

    __tablename__ = "analytics_areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent: Mapped[str | None] = mapped_column(String(32))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class Calendar(Base):
    """The working-day calendar sla last published (`calendar.changed`, the whole calendar as
    its JSON payload): one row. Handling times are counted with it."""

    __tablename__ = "analytics_calendar"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class ConfigVersion(Base):
    """A formula version (口径版本): one exact configuration (weights, exclusions, formulas,
    thresholds), never changed once written. `label` is what figures show; `digest` (SHA-256 of
    the canonical JSON) is its identity."""

    __tablename__ = "analytics_config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant())


class DailyAggregate(Base):
    """Counts (analytics.rates.Tally) by day × unit × area × category × channel, kept up to
    date incrementally; a period's figures are sums over these rows."""

    __table__ = Table(
        "analytics_daily",
        metadata,
        Column("day", Date, primary_key=True),
        Column("unit_id", String(64), primary_key=True),
        Column("area_code", String(32), primary_key=True),
        Column("category", String(200), primary_key=True),
        Column("channel", String(32), primary_key=True),
        *(Column(name, BigInteger, nullable=False, default=0) for name in COUNT_NAMES),
        Index("ix_analytics_daily_unit_day", "unit_id", "day"),
    )


class MonthlyAggregate(Base):
    """The daily counts summed by month at a few grains (analytics.rollup): kept up to date in
    the same transaction as the daily rows, from the same deltas. The key starts with the grain
    and the month, so a query reads one contiguous range of the primary key."""

    __table__ = Table(
        "analytics_monthly",
        metadata,
        Column("grain", SmallInteger, primary_key=True, autoincrement=False),
        Column("month", Date, primary_key=True),
        Column("unit_id", String(64), primary_key=True),
        Column("area_code", String(32), primary_key=True),
        Column("category", String(200), primary_key=True),
        Column("channel", String(32), primary_key=True),
        *(Column(name, BigInteger, nullable=False, default=0) for name in COUNT_NAMES),
        sqlite_with_rowid=False,
    )
