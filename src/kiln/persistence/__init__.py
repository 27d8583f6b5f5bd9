"""Persistence: the SQL tables behind stacks, resources, events and locks.

The database is the source of truth for every running operation, so the
repositories here are the only code that writes queries; the rest of Kiln
passes the plain records of :mod:`kiln.plan.state` in and gets them back.

This package initialiser deliberately imports nothing: :mod:`.integrity` must
stay importable without SQLAlchemy, and callers import the module they need
(``kiln.persistence.database``, ``kiln.persistence.stacks``, ...).
"""
