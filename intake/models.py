"""intake's tables. The citizen's name and phone live here and nowhere else, encrypted
(intake/protection.py), and found by the blind index `citizen_index`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from intake.domain import STATUS_OPEN, TicketStatus
from intake.protection import Encrypted
from shared.db import Instant, new_metadata
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.stamped import stamps_table


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
outbox = Outbox(metadata, "intake")
inbox = Inbox(metadata, "intake")
stamps = stamps_table(metadata, "intake")


# An open ticket (`domain.STATUS_OPEN`) in SQL. The same-matter index holds only these, and a
# query uses it only if it says so in these very words: SQLite matches a partial index's
# condition by its text, and with `status IN (…open…)` instead it chose another index and
# read every ticket of a cluster (tests/intake/test_matters_plan.py).
OPEN_TICKET = text(
    "status NOT IN (" + ", ".join(f"'{s}'" for s in sorted(set(TicketStatus) - STATUS_OPEN)) + ")"
)


class Ticket(Base):
    __tablename__ = "intake_tickets"
    __table_args__ = (
        # Same-matter candidates: one category at one place, the unclustered ones or one
        # cluster's, newest first, of the open tickets only (a closed one leaves it). Bounded
        # lookups on this keep the accept time flat however many tickets are stored and however
        # large a cluster grows.
        Index(
            "ix_intake_tickets_matter",
            "category",
            "area_code",
            "cluster_id",
            "received_at",
            sqlite_where=OPEN_TICKET,
            postgresql_where=OPEN_TICKET,
        ),
        # Repeats and the caller history: one citizen's recent tickets, by the blind index.
        Index("ix_intake_tickets_citizen_index", "citizen_index", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    area_code: Mapped[str | None] = mapped_column(String(32))
    # Encrypted at rest (0004); the ORM reads and writes them as clear text.
    citizen_name: Mapped[str | None] = mapped_column(Encrypted("intake_tickets.citizen_name"))
    citizen_phone: Mapped[str | None] = mapped_column(Encrypted("intake_tickets.citizen_phone"))
    # HMAC of the phone (or the channel identity) under INTAKE_BLIND_INDEX_KEY (0004).
    citizen_index: Mapped[str | None] = mapped_column(String(48))
    citizen_ref: Mapped[str | None] = mapped_column(String(64))
    anonymous: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    lead_unit_id: Mapped[str | None] = mapped_column(String(64))
    lead_unit_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(Instant(), index=True)
    updated_at: Mapped[datetime] = mapped_column(Instant())
    # Added with the channel adapters (0002): all optional, so older rows stay valid.
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    channel_refs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    category_source: Mapped[str | None] = mapped_column(String(16))  # given | suggested
    classification_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    terms: Mapped[str | None] = mapped_column(Text)  # content words for "same matter", " "-joined
    repeat_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cluster_id: Mapped[str | None] = mapped_column(String(32), index=True)
    lead_assignment_id: Mapped[str | None] = mapped_column(String(64))
    expected_at: Mapped[datetime | None] = mapped_column(Instant())  # lead's completion deadline
    # 同一诉求 (0005): another citizen's open ticket the operator confirmed this is the same
    # matter as (the caller's own is linked as a repeat instead).
    same_matter_of: Mapped[str | None] = mapped_column(String(32))
    # The category suggestion the operator was shown when choosing the category (0006): the
    # categories offered, best first, the first of them, where they came from (model |
    # keywords) and the model version. None: nothing recorded (a channel, an older ticket).
    suggested_top: Mapped[list[str] | None] = mapped_column(JSON)
    suggested_category: Mapped[str | None] = mapped_column(String(200))
    suggestion_source: Mapped[str | None] = mapped_column(String(16))
    suggestion_model: Mapped[str | None] = mapped_column(String(64))
    # Where the kind and urgency came from (0007): "given" (an operator or the channel) or
    # "suggested" (filled in by the classification help: no label to learn from). None: a
    # ticket older than the column.
    kind_source: Mapped[str | None] = mapped_column(String(16))
    urgency_source: Mapped[str | None] = mapped_column(String(16))


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


class Category(Base):
    """The taxonomy (分类目录), a tree of paths such as 城市管理/市容环境/占道经营. `code` is the
    short service code Open311 clients use."""

    __tablename__ = "intake_categories"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_path: Mapped[str | None] = mapped_column(String(200))
    depth: Mapped[int] = mapped_column(Integer)
    keywords: Mapped[str] = mapped_column(Text, default="")  # "|"-separated
    description: Mapped[str] = mapped_column(Text, default="")


class AreaBoundary(Base):
    """An area's boundary polygon, [[lng, lat], …] (WGS-84), for areas by coordinates."""

    __tablename__ = "intake_area_boundaries"

    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)


class Repeat(Base):
    """A repeat report (重复诉求): the same citizen, the same matter, linked to the open ticket."""

    __tablename__ = "intake_repeats"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("intake_tickets.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_refs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    similarity: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(Instant())


class Cluster(Base):
    """A cluster (集中诉求): one matter at one place from several people, flagged for supervision."""

    __tablename__ = "intake_clusters"
    __table_args__ = (Index("ix_intake_clusters_place", "category", "area_code", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(32))
    # Kept in place as reports join (members are the tickets with this cluster_id), so a
    # storm of thousands of reports costs the same per report as the first few.
    size: Mapped[int] = mapped_column(Integer)
    reporters: Mapped[int] = mapped_column(Integer)
    flagged_at: Mapped[datetime] = mapped_column(Instant())
    updated_at: Mapped[datetime] = mapped_column(Instant())


class ClusterReporter(Base):
    """Who has reported a cluster's matter: a new row is a new reporter, so the count of
    different people grows without reading the members."""

    __tablename__ = "intake_cluster_reporters"

    cluster_id: Mapped[str] = mapped_column(ForeignKey("intake_clusters.id"), primary_key=True)
    reporter: Mapped[str] = mapped_column(String(100), primary_key=True)


class IdempotencyRecord(Base):
    """What a gateway's retry gets back: the key is `key:<principal>:<Idempotency-Key>` or
    `msg:<channel>:<channel message id>`."""

    __tablename__ = "intake_idempotency"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str] = mapped_column(String(32))
    repeat_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(Instant())


class AddedInfo(Base):
    """Information added to an open ticket (补充材料) by the citizen or an operator."""

    __tablename__ = "intake_added_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("intake_tickets.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(Instant())


class Lease(Base):
    """A lease on work that one replica at a time does (0008): scheduled retraining
    (`intake/retraining.py`). A replica takes it with one conditional UPDATE (free or expired,
    and due), holds it until `until`, and gives it back with what it did."""

    __tablename__ = "intake_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    until: Mapped[datetime | None] = mapped_column(Instant())
    started_at: Mapped[datetime | None] = mapped_column(Instant())  # the last run's start
    finished_at: Mapped[datetime | None] = mapped_column(Instant())
    outcome: Mapped[str | None] = mapped_column(Text)  # what the last run did
