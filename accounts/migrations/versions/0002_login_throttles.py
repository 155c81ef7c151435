"""login throttles: failed password logins per account name, for the lockout

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00

One row per account name with failed password logins since its last successful one (keyed by
the name's digest, shared.auth.subject_digest), and until when the name is locked
(accounts.domain.after_failed_login). In the database so that every accounts process counts
the same failures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts_login_throttles",
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_accounts_login_throttles")),
    )
    with op.batch_alter_table("accounts_login_throttles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounts_login_throttles_last_failed_at"),
            ["last_failed_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts_login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_login_throttles_last_failed_at"))
    op.drop_table("accounts_login_throttles")
