"""sla's tables: a clock per assignment and its timers, indexed by due time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "sla")
inbox = Inbox(metadata, "sla")


class Clock(Base):
    __tablename__ = "sla_clocks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    assignment_id: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    policy: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(Instant())


class Timer(Base):
    """One deadline of a clock. `state`: armed → fired (breached) or stopped (met)."""

    __tablename__ = "sla_timers"
    __table_args__ = (Index("ix_sla_timers_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clock_id: Mapped[str] = mapped_column(ForeignKey("sla_clocks.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(Instant())
    state: Mapped[str] = mapped_column(String(8), default="armed")
    stopped_at: Mapped[datetime | None] = mapped_column(Instant())
    fired_at: Mapped[datetime | None] = mapped_column(Instant())
