"""events.hash_version, events.salt, events.digests: the chain covers digests of personal fields

Events written before this revision keep hash_version 1 (their whole data hashed) and still verify.
From version 2 on, each personal field is hashed as a salted digest, so erasure can delete the text
(and the salt) and `audit verify` still passes. See triage/audit.py.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("hash_version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("salt", sa.String(32), nullable=True))
        batch.add_column(sa.Column("digests", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("digests")
        batch.drop_column("salt")
        batch.drop_column("hash_version")
