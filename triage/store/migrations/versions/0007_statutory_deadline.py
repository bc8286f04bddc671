"""items: statutory_deadline, the earliest mediation/appeal deadline still to act on

Set at intake and when a caseworker re-drafts (or changes the route), from the decision-letter and
mediation-certificate dates the draft used; the web queue shows it ("passed" or "in N days",
judged on the day it is shown) and can sort by it. Items stored before this revision, and items
on routes without deadlines, keep NULL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("statutory_deadline", sa.Date(), nullable=True))
    op.create_index("ix_items_statutory_deadline", "items", ["statutory_deadline"])


def downgrade() -> None:
    op.drop_index("ix_items_statutory_deadline", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("statutory_deadline")
