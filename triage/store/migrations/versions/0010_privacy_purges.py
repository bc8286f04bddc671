"""messages.purged_at and purge_reason; erasure_requests (helper G: triage.privacy)

A message whose personal data retention or erasure deleted keeps its row (ids, hashes, times, route)
with purged_at set; an erasure asked for in the web app waits in erasure_requests for a second person.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purge_reason", sa.String(20), nullable=False, server_default=""))
        batch.create_index("ix_messages_purged_at", ["purged_at"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_ref", sa.Integer(), sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("erasure_requests")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_purged_at")
        batch.drop_column("purge_reason")
        batch.drop_column("purged_at")
