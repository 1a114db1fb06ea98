"""The ledger's schema migrations (Alembic), run by :func:`xlsales.ledger.open_ledger` on every open."""
