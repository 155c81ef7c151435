"""personal data at rest: the citizen's phone and name encrypted (wider columns), the blind index
`citizen_index` replacing the citizen_ref index for a citizen's tickets

Existing rows are encrypted here under the current key (INTAKE_ENCRYPTION_KEYS, or the
development keys where those are allowed) and indexed by their phone. A ticket identified by a
channel identity only (a Weibo handle) gets no index: it cannot be recomputed from what is
stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from intake.keys import reencrypt_rows

    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.alter_column(
            "citizen_name", existing_type=sa.String(length=64), type_=sa.String(length=400)
        )
        batch_op.alter_column(
            "citizen_phone", existing_type=sa.String(length=32), type_=sa.String(length=400)
        )
        batch_op.add_column(sa.Column("citizen_index", sa.String(length=48), nullable=True))
        batch_op.drop_index("ix_intake_tickets_citizen")
        batch_op.create_index(
            "ix_intake_tickets_citizen_index", ["citizen_index", "received_at"], unique=False
        )
    reencrypt_rows(op.get_bind())


def downgrade() -> None:
    from intake.keys import NAME, PHONE
    from intake.protection import key_ring

    ring = key_ring()
    bind = op.get_bind()
    tickets = sa.table(
        "intake_tickets",
        sa.column("id", sa.String),
        sa.column("citizen_name", sa.String),
        sa.column("citizen_phone", sa.String),
    )
    rows = bind.execute(
        sa.select(tickets.c.id, tickets.c.citizen_name, tickets.c.citizen_phone).where(
            sa.or_(tickets.c.citizen_name.is_not(None), tickets.c.citizen_phone.is_not(None))
        )
    ).all()
    for row in rows:
        bind.execute(
            sa.update(tickets)
            .where(tickets.c.id == row.id)
            .values(
                citizen_name=row.citizen_name and ring.decrypt(row.citizen_name, NAME),
                citizen_phone=row.citizen_phone and ring.decrypt(row.citizen_phone, PHONE),
            )
        )
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_tickets_citizen_index")
        batch_op.create_index("ix_intake_tickets_citizen", ["citizen_ref", "received_at"])
        batch_op.drop_column("citizen_index")
        batch_op.alter_column(
            "citizen_phone", existing_type=sa.String(length=400), type_=sa.String(length=32)
        )
        batch_op.alter_column(
            "citizen_name", existing_type=sa.String(length=400), type_=sa.String(length=64)
        )
