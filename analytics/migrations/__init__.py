"""analytics's Alembic history (version table analytics_alembic_version)."""
