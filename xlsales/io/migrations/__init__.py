"""The ledger's schema migrations (Alembic), run by :func:`xlsales.io.ledger.open_ledger` on every open."""
