"""outbox: an index for the acknowledgement window's lookup (kind, lower(to_address), created_at)

Without it every message taken in scanned the whole outbox, which only grows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_acknowledged", "outbox", ["kind", sa.text("lower(to_address)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_acknowledged", table_name="outbox")
