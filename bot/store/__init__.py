"""Persistence: typed models, sessions and Alembic migrations."""
