"""attachments: each message's attachments' decoded bytes, stored at intake so a download streams them
in pieces instead of parsing the whole message again (triage.store.attachments)

Backfill: every message already stored with raw bytes (not purged) is parsed once here, one message at a
time, ids read 200 at a time, and its listed attachments (those its page links to: headers' attachments)
are written. A database with many large messages takes a while to upgrade; nothing is parsed afterwards.
On PostgreSQL the data column is STORAGE EXTERNAL (uncompressed TOAST), so substring() reads only the
piece asked for.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_IDS_PER_READ = 200


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_ref", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("message_ref", "index"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE attachments ALTER COLUMN data SET STORAGE EXTERNAL")
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    """Parse each stored message's raw bytes once and write its attachments' rows."""
    from triage.parsing import attachment_payloads  # the same walk of the MIME parts intake does

    meta = sa.MetaData()
    messages = sa.Table("messages", meta, autoload_with=bind)
    attachments = sa.Table("attachments", meta, autoload_with=bind)
    after = 0
    while True:
        ids = list(bind.execute(sa.select(messages.c.id).where(messages.c.id > after, messages.c.purged_at.is_(None))
                                .order_by(messages.c.id).limit(_IDS_PER_READ)).scalars())
        if not ids:
            return
        after = ids[-1]
        for message_id in ids:
            raw, headers = bind.execute(sa.select(messages.c.raw, messages.c.headers)
                                        .where(messages.c.id == message_id)).one()
            listed = (headers or {}).get("attachments") or []
            if not raw or not listed:
                continue
            payloads = attachment_payloads(bytes(raw))[:len(listed)]
            rows = [{"message_ref": message_id, "index": n, "filename": a.filename.replace("\x00", ""),
                     "content_type": a.content_type.replace("\x00", ""),
                     "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": data}
                    for n, (a, data) in enumerate(payloads)]
            if rows:
                bind.execute(attachments.insert(), rows)


def downgrade() -> None:
    op.drop_table("attachments")
