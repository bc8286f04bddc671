"""item flags, draft metadata (deadline used, placeholders), outbox claim time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("meta", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("message_id_header", sa.String(length=998), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("message_id_header")
        batch.drop_column("claimed_at")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("meta")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("flags")
