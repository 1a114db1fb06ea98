"""Schema 1: immutable snapshots of every consolidation.

One row in ``snapshots`` per consolidation; everything else hangs off it by ``snapshot_id`` and is never
updated: the files (``submissions``), every row as submitted (``rows``: canonical values as JSON, with
file, sheet, row and status), the ``issues``, the review ``figures`` per level/key/region, and the
``adjustments`` and ``targets`` in force.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _snap() -> sa.Column:
    return sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "snapshots", _id(),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("company", sa.Text, nullable=False, server_default=""),
        sa.Column("lang", sa.String(2), nullable=False, server_default="zh"),
        sa.Column("version", sa.String(20), nullable=False, server_default=""),
        sa.Column("report", sa.Text, nullable=False, server_default=""),
        sa.Column("files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_accepted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("warnings", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "submissions", _id(), _snap(),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("team", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("period", sa.Date),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("modified", sa.DateTime),
        sa.Column("received", sa.DateTime),
        sa.Column("on_time", sa.Boolean),
        sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_accepted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_superseded", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("warnings", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "rows", _id(), _snap(),
        sa.Column("tbl", sa.String(20), nullable=False),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("file", sa.Text, nullable=False, server_default=""),
        sa.Column("sheet", sa.Text, nullable=False, server_default=""),
        sa.Column("row", sa.Integer),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "issues", _id(), _snap(),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("file", sa.Text, nullable=False, server_default=""),
        sa.Column("sheet", sa.Text, nullable=False, server_default=""),
        sa.Column("cell", sa.String(16), nullable=False, server_default=""),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("zh", sa.Text, nullable=False, server_default=""),
        sa.Column("en", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "figures", _id(), _snap(),
        sa.Column("review", sa.String(16), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False, server_default=""),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_table(
        "adjustments", _id(), _snap(),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False, server_default=""),
        sa.Column("week", sa.Date),
        sa.Column("commit", sa.Float),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("by", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "targets", _id(), _snap(),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("team", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("month", sa.Date),
        sa.Column("target", sa.Float),
    )


def downgrade() -> None:
    for t in ("targets", "adjustments", "figures", "issues", "rows", "submissions", "snapshots"):
        op.drop_table(t)
