"""callback's Alembic history (version table callback_alembic_version)."""
