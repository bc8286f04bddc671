"""web app: users, login failures (rate limit), indexes for the queue's order and filters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_lookup", "login_failures", ["username", "address", "at"])
    op.create_index("ix_items_claimed_by", "items", ["claimed_by"])
    op.create_index("ix_items_queue_order", "items",
                    [sa.text("safeguarding DESC"), sa.text("needs_review DESC"), "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_queue_order", table_name="items")
    op.drop_index("ix_items_claimed_by", table_name="items")
    op.drop_index("ix_login_failures_lookup", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("users")
