"""sla's Alembic history (version table sla_alembic_version)."""
