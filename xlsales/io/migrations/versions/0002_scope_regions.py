"""Schema 2: a snapshot's scope and regions (regional ledgers shared by a company).

``snapshots.scope`` says what was consolidated: ``folder`` (a manager's inbox) or ``company`` (the national
report built from the regions' snapshots); ``snapshot_regions`` tags a snapshot with the regions of its
roster, so the company report can take the latest snapshot of every region.  Snapshots recorded under
schema 1 become ``folder`` snapshots of every region their submissions name.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("snapshots", sa.Column("scope", sa.String(16), nullable=False, server_default="folder"))
    op.create_table(
        "snapshot_regions",
        sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
        sa.Column("region", sa.String(200), primary_key=True),
    )
    op.execute("INSERT INTO snapshot_regions (snapshot_id, region) "
               "SELECT DISTINCT snapshot_id, region FROM submissions WHERE region IS NOT NULL AND region <> ''")
    op.create_index("ix_snapshots_period", "snapshots", ["period"])
    op.create_index("ix_figures_snapshot_review", "figures", ["snapshot_id", "review"])
    op.create_index("ix_rows_snapshot_tbl", "rows", ["snapshot_id", "tbl"])


def downgrade() -> None:
    op.drop_index("ix_rows_snapshot_tbl", "rows")
    op.drop_index("ix_figures_snapshot_review", "figures")
    op.drop_index("ix_snapshots_period", "snapshots")
    op.drop_table("snapshot_regions")
    with op.batch_alter_table("snapshots") as b:
        b.drop_column("scope")
