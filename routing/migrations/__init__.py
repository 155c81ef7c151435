"""routing's Alembic history (version table routing_alembic_version)."""
