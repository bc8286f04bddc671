"""items.safeguarding_action: what a caseworker did about a safeguarding flag (helper H: triage.decisions)

"" until an action is recorded (referral_made, already_known, not_safeguarding) or the flag is cleared as
false (flag_cleared). A reply to a flagged item cannot be approved while it is "". The reply's headers
need no column: the message row already holds the From address and name, Message-ID and References.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("safeguarding_action", sa.String(30), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("safeguarding_action")
