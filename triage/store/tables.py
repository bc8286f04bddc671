"""The mapped tables. Only triage.store imports this module."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC and always gives back an aware UTC datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: UTCDateTime()}


class FolderStateRow(Base):
    """How far intake has read one folder of one mailbox."""

    __tablename__ = "folder_state"
    __table_args__ = (UniqueConstraint("source", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime]


class MessageRow(Base):
    """One incoming email, raw bytes kept, with what parsing made of it."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("source", "folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    from_name: Mapped[str] = mapped_column(String(300))
    from_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    is_automatic: Mapped[bool] = mapped_column(Boolean)
    parse_error: Mapped[str] = mapped_column(Text, default="")
    recorded_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # The text read from its PDF, DOCX and plain-text attachments, a heading line before each (searched).
    attachment_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When its personal data was deleted (triage.privacy: "retention" or "erasure"); the row stays as a stub.
    purged_at: Mapped[dt.datetime | None] = mapped_column(index=True, nullable=True)
    purge_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")


class AttachmentRow(Base):
    """One attachment of a message, its decoded bytes stored once at intake (migration 0012), so that a
    download streams them in pieces (triage.store.attachments) instead of parsing the whole message."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("message_ref", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_ref: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    index: Mapped[int] = mapped_column(Integer)  # its position in the message's attachments (the page's links)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ClassificationRow(Base):
    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_ref: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    safeguarding: Mapped[bool] = mapped_column(Boolean)
    scores: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]


class ItemRow(Base):
    """A message waiting for (or past) a caseworker's decision."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_ref: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    route: Mapped[str] = mapped_column(String(40), index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    safeguarding: Mapped[bool] = mapped_column(Boolean, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100), index=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    due_at: Mapped[dt.datetime | None]
    # The earliest mediation/appeal deadline still to act on when the draft was written (England's
    # date), set at intake and on re-draft; the queue sorts by it and judges it against today.
    statutory_deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # What it becomes once the mediation adviser's two months are over (the appeal's date), and the last
    # day of those two months (NULL: no adviser step); the queue judges them against today (migration 0013).
    appeal_deadline: Mapped[dt.date | None] = mapped_column(Date)
    adviser_until: Mapped[dt.date | None] = mapped_column(Date)
    # What was done about a safeguarding flag (triage.decisions.safeguarding; migration 0011): "" until recorded.
    safeguarding_action: Mapped[str] = mapped_column(String(30), default="", server_default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# The queue's order: safeguarding first, then needs review, then the earliest reply-by date.
Index("ix_items_queue_order", ItemRow.safeguarding.desc(), ItemRow.needs_review.desc(), ItemRow.due_at, ItemRow.id)


class DraftRow(Base):
    """One version of the reply drafted for an item; edits add versions, never overwrite."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("item_ref", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_ref: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]


class OutboxRow(Base):
    """An email to send: written in the same transaction as its cause, sent later by the outbox job."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("message_ref", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    message_ref: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    item_ref: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id_header: Mapped[str] = mapped_column(String(998), default="")
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]


# The acknowledgement window asks "acknowledged this address lately?" for every message taken in.
Index("ix_outbox_acknowledged", OutboxRow.kind, func.lower(OutboxRow.to_address), OutboxRow.created_at)


class EventRow(Base):
    """The append-only, hash-chained log of everything the service and its users did."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(60), index=True)
    message_ref: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    item_ref: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How `hash` was computed (triage.audit): 1 = the whole data; 2 = personal fields as salted digests.
    hash_version: Mapped[int] = mapped_column(default=1, server_default="1")
    salt: Mapped[str | None] = mapped_column(String(32))  # None once the personal fields are erased
    digests: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # personal field -> its salted digest


class UserRow(Base):
    """A person who signs in to the web app; disabled accounts are kept for the event log."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    disabled_at: Mapped[dt.datetime | None]
    # Stored in the signed session cookie; bumping it (sign-out, new password, disabling) ends every session.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")


class LoginFailureRow(Base):
    """One failed sign-in, kept for the rate limit (per username and address) and pruned after the window."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_lookup", "username", "address", "at"),
                      Index("ix_login_failures_address", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]


class PollStatusRow(Base):
    """How the last poll of one mailbox went: what `status`, /healthz and the health alerts read."""

    __tablename__ = "poll_status"

    source: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_attempt_at: Mapped[dt.datetime]
    last_success_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class HealthAlertRow(Base):
    """When an alert for one health condition last went out (at most one per condition per hour)."""

    __tablename__ = "health_alerts"

    condition: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_sent_at: Mapped[dt.datetime]
