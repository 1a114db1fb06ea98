"""Alembic's environment for the ledger: always on the connection :mod:`xlsales.io.ledger` hands over.

The ledger opens its database, takes its lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL) and runs the migrations inside that one transaction, so two processes opening a new ledger
at once never both create its tables, and a migration that fails leaves the ledger as it was.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only xlsales.io.ledger runs these migrations
    raise RuntimeError("the ledger's migrations run through xlsales.io.ledger, on its connection")
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
