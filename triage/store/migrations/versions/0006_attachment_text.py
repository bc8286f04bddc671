"""messages: attachment_text, the text read from a message's PDF, DOCX and plain-text attachments

Joined with one header line per attachment ("--- letter.pdf (PDF, 2 pages) ---") so the
caseworker queue's search finds words that are only in an attached letter. Rows stored
before this revision keep ''.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("attachment_text", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachment_text")
