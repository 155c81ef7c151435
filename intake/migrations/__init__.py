"""intake's Alembic history (version table intake_alembic_version)."""
