"""users.session_version; login_failures indexed by address

session_version is copied into the signed session cookie at sign-in and compared on every request;
signing out, a new password and disabling the account bump it, so every copy of the cookie stops
working at once. The address index serves the per-address sign-in delay.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
