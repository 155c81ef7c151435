"""catalogue versions, returns, whistles

Catalogue rules move to `routing_catalogue_rules`, keyed by (version, id), with their versions
and effective dates in `routing_catalogue_versions`; the rules already loaded are copied into
their version, in force from 2000-01-01. Areas and units gain `active` and `version`; tickets
their queue status, return count and key supervision; assignments their mode, basis, end and
the reply's reason and legal path. New: directory versions, progress notes, reply templates,
returns, joint determinations, whistles and their summons.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:27:59.704775
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_catalogue_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_routing_catalogue_versions")),
    )
    op.create_table(
        "routing_directory_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("areas", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_routing_directory_versions")),
    )
    op.create_table(
        "routing_reply_templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_reply_templates")),
    )
    with op.batch_alter_table("routing_reply_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_reply_templates_category"), ["category"], unique=False
        )

    op.create_table(
        "routing_catalogue_rules",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("lead", sa.String(length=64), nullable=False),
        sa.Column("assists", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version"],
            ["routing_catalogue_versions.version"],
            name=op.f("fk_routing_catalogue_rules_version_routing_catalogue_versions"),
        ),
        sa.PrimaryKeyConstraint("version", "id", name=op.f("pk_routing_catalogue_rules")),
    )
    op.create_table(
        "routing_determinations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("lead_unit_id", sa.String(length=64), nullable=False),
        sa.Column("assist_unit_ids", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("catalogue_version", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["routing_tickets.id"],
            name=op.f("fk_routing_determinations_ticket_id_routing_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_determinations")),
    )
    with op.batch_alter_table("routing_determinations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_determinations_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "routing_whistles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["routing_tickets.id"],
            name=op.f("fk_routing_whistles_ticket_id_routing_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_whistles")),
    )
    with op.batch_alter_table("routing_whistles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_whistles_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_routing_whistles_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "routing_whistle_summons",
        sa.Column("whistle_id", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["whistle_id"],
            ["routing_whistles.id"],
            name=op.f("fk_routing_whistle_summons_whistle_id_routing_whistles"),
        ),
        sa.PrimaryKeyConstraint("whistle_id", "unit_id", name=op.f("pk_routing_whistle_summons")),
    )
    with op.batch_alter_table("routing_whistle_summons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_whistle_summons_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "routing_progress_notes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("assignment_id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["routing_assignments.id"],
            name=op.f("fk_routing_progress_notes_assignment_id_routing_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_progress_notes")),
    )
    with op.batch_alter_table("routing_progress_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_progress_notes_assignment_id"), ["assignment_id"], unique=False
        )

    op.create_table(
        "routing_returns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("assignment_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("redispatched_to", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["routing_assignments.id"],
            name=op.f("fk_routing_returns_assignment_id_routing_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["routing_tickets.id"],
            name=op.f("fk_routing_returns_ticket_id_routing_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_returns")),
    )
    with op.batch_alter_table("routing_returns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_returns_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_routing_returns_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_routing_returns_unit_id"), ["unit_id"], unique=False)

    _copy_rules()
    op.drop_table("routing_rules")
    with op.batch_alter_table("routing_areas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsolvable_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("legal_path", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("mode", sa.String(length=8), server_default="direct", nullable=False)
        )
        batch_op.add_column(
            sa.Column("basis", sa.String(length=16), server_default="catalogue", nullable=False)
        )
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("timed_out_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("routing_tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="dispatched", nullable=False)
        )
        batch_op.add_column(sa.Column("queued_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("return_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("key_supervision_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("routing_units", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("routing_units", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("active")

    with op.batch_alter_table("routing_tickets", schema=None) as batch_op:
        batch_op.drop_column("key_supervision_at")
        batch_op.drop_column("return_count")
        batch_op.drop_column("queued_reason")
        batch_op.drop_column("status")

    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.drop_column("timed_out_at")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("basis")
        batch_op.drop_column("mode")
        batch_op.drop_column("legal_path")
        batch_op.drop_column("unsolvable_reason")

    with op.batch_alter_table("routing_areas", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("active")

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("category", sa.VARCHAR(length=200), nullable=False),
        sa.Column("area_code", sa.VARCHAR(length=32), nullable=True),
        sa.Column("keywords", sa.TEXT(), nullable=False),
        sa.Column("lead_unit_id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("assist_unit_ids", sa.TEXT(), nullable=False),
        sa.Column("catalogue_version", sa.INTEGER(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"],
            ["routing_units.id"],
            name=op.f("fk_routing_rules_lead_unit_id_routing_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_returns_unit_id"))
        batch_op.drop_index(batch_op.f("ix_routing_returns_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_routing_returns_assignment_id"))

    op.drop_table("routing_returns")
    with op.batch_alter_table("routing_progress_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_progress_notes_assignment_id"))

    op.drop_table("routing_progress_notes")
    with op.batch_alter_table("routing_whistle_summons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_whistle_summons_unit_id"))

    op.drop_table("routing_whistle_summons")
    with op.batch_alter_table("routing_whistles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_whistles_unit_id"))
        batch_op.drop_index(batch_op.f("ix_routing_whistles_ticket_id"))

    op.drop_table("routing_whistles")
    with op.batch_alter_table("routing_determinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_determinations_ticket_id"))

    op.drop_table("routing_determinations")
    op.drop_table("routing_catalogue_rules")
    with op.batch_alter_table("routing_reply_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_reply_templates_category"))

    op.drop_table("routing_reply_templates")
    op.drop_table("routing_directory_versions")
    op.drop_table("routing_catalogue_versions")


def _copy_rules() -> None:
    """The rules loaded so far become their catalogue version, in force from 2000-01-01."""
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT id, category, area_code, keywords, lead_unit_id, assist_unit_ids, "
                "catalogue_version FROM routing_rules"
            )
        )
        .all()
    )
    if not rows:
        return
    versions = sa.table(
        "routing_catalogue_versions",
        sa.column("version", sa.Integer()),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("source", sa.String()),
        sa.column("note", sa.Text()),
        sa.column("rule_count", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.String()),
    )
    rules = sa.table(
        "routing_catalogue_rules",
        sa.column("version", sa.Integer()),
        sa.column("id", sa.String()),
        sa.column("category", sa.String()),
        sa.column("area_code", sa.String()),
        sa.column("keywords", sa.Text()),
        sa.column("lead", sa.String()),
        sa.column("assists", sa.Text()),
    )
    beginning = datetime(2000, 1, 1, tzinfo=UTC)
    counts: dict[int, int] = {}
    for row in rows:
        counts[row.catalogue_version] = counts.get(row.catalogue_version, 0) + 1
    op.bulk_insert(
        versions,
        [
            {
                "version": v,
                "effective_from": beginning,
                "source": "migration 0003",
                "note": "",
                "rule_count": n,
                "created_at": datetime.now(UTC),
                "created_by": "migration",
            }
            for v, n in sorted(counts.items())
        ],
    )
    op.bulk_insert(
        rules,
        [
            {
                "version": r.catalogue_version,
                "id": r.id,
                "category": r.category,
                "area_code": r.area_code,
                "keywords": r.keywords,
                "lead": r.lead_unit_id,
                "assists": r.assist_unit_ids,
            }
            for r in rows
        ],
    )
