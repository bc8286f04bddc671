"""The outbox's vocabulary: what kind of email, where it is in its life, and what one attempt to send it did.

StrEnums, so each prints, compares and goes into JSON as its stored word ("reply", not "OutboxKind.REPLY")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class OutboxKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    REPLY = "reply"
    ALERT = "alert"  # safeguarding alert to the duty address
    HEALTH = "health"  # service health alert to the admin address


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    WOULD_SEND = "would_send"  # shadow mode: recorded, never sent


class SendOutcome(StrEnum):
    """What one attempt to send an outbox row did."""

    SENT = "sent"
    RETRY = "retry"  # failed for now: pending again at a later time
    FAILED = "failed"  # failed for good: a person must look
    HELD = "held"  # not sent yet on purpose (pending again later, the attempt not counted)


@dataclass(frozen=True)
class OutgoingMail:
    """A composed email for the outbox."""

    kind: OutboxKind
    to_address: str
    subject: str
    raw: bytes
    message_id: str = ""


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as the sender and the CLI see it."""

    id: int
    kind: OutboxKind
    to_address: str
    subject: str
    raw: bytes
    status: OutboxStatus
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime
    item_id: int | None
    message_ref: int | None
