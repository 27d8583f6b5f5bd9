"""Alembic migrations; the only code that creates or alters tables."""
