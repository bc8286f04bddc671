"""The outbox table: rows claimed for sending, and what became of each attempt.

A row is claimed once (FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers never send the same
email; a reply's outcome also moves its queue item to sent or failed, in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import OutboxEntry, OutboxKind, OutboxStatus, OutgoingMail, Status
from ..errors import InvalidAction, NotFound
from ..events import HealthAlert, Held, OutboxQueued, SendFailed, SendInterrupted, SendRetryRequested, \
    SendRetryScheduled, Sent
from .database import Database
from .tables import ItemRow, OutboxRow

INTERRUPTED = ("interrupted while sending: it may or may not have been delivered; check the Sent folder, then "
               "`ehc-triage outbox retry ID` to send it again")


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_due(self, at: dt.datetime, limit: int = 100) -> list[OutboxEntry]:
        """Mark up to `limit` due rows as being sent, and return them (a row is claimed once)."""
        with self.db.writing() as s:
            rows = list(s.scalars(
                select(OutboxRow)
                .where(OutboxRow.status == OutboxStatus.PENDING.value, OutboxRow.next_attempt_at <= at)
                .order_by(OutboxRow.kind != OutboxKind.ALERT.value, OutboxRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ))
            for row in rows:
                row.status, row.claimed_at, row.attempts = OutboxStatus.SENDING.value, at, row.attempts + 1
            return [_entry(r) for r in rows]

    def fail_stale_sends(self, older_than: dt.datetime) -> list[int]:
        """Rows left 'sending' by a crash: the SMTP server may or may not have taken them, so they are
        failed for a person to check (resending blindly could send twice)."""
        with self.db.writing() as s:
            rows = list(s.scalars(select(OutboxRow).where(OutboxRow.status == OutboxStatus.SENDING.value,
                                                          OutboxRow.claimed_at < older_than)))
            for row in rows:
                row.status, row.last_error = OutboxStatus.FAILED.value, INTERRUPTED
                self.db.append(s, SendInterrupted(row.id, row.kind), "system", row.message_ref, row.item_ref)
                self._after_send(s, row, ok=False)
            return [r.id for r in rows]

    def mark_sent(self, outbox_id: int, at: dt.datetime) -> None:
        with self.db.writing() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT.value, at, ""
            self.db.append(s, Sent(OutboxKind(row.kind), row.id, row.to_address, row.attempts, row.message_id_header),
                           "system", row.message_ref, row.item_ref)
            self._after_send(s, row, ok=True)

    def mark_unsent(self, outbox_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """A failed attempt: retry at `retry_at`, or fail for good when it is None."""
        with self.db.writing() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.last_error = error[:2000]
            if retry_at is None:
                row.status = OutboxStatus.FAILED.value
                self.db.append(s, SendFailed(OutboxKind(row.kind), row.id, row.attempts, error[:500]), "system",
                               row.message_ref, row.item_ref)
                self._after_send(s, row, ok=False)
            else:
                row.status, row.next_attempt_at = OutboxStatus.PENDING.value, retry_at
                self.db.append(s, SendRetryScheduled(row.id, row.attempts, retry_at.isoformat(), error[:500]),
                               "system", row.message_ref, row.item_ref)

    def hold(self, outbox_id: int, reason: str, until: dt.datetime) -> None:
        """A claimed row that must not be sent yet: pending again from `until`, the attempt not counted."""
        with self.db.writing() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.status, row.next_attempt_at = OutboxStatus.PENDING.value, until
            row.attempts, row.last_error = max(0, row.attempts - 1), reason[:2000]
            self.db.append(s, Held(OutboxKind(row.kind), row.id, reason[:500], until.isoformat()), "system",
                           row.message_ref, row.item_ref)

    def retry(self, outbox_id: int, actor: str) -> None:
        """Put a failed row back in the queue (a person decided to send it again)."""
        with self.db.writing() as s:
            row = s.get(OutboxRow, outbox_id)
            if row is None:
                raise NotFound(f"no outbox row {outbox_id}")
            if row.status != OutboxStatus.FAILED.value:
                raise InvalidAction(f"outbox row {outbox_id} is {row.status}, not failed")
            row.status, row.next_attempt_at, row.attempts = OutboxStatus.PENDING.value, self.db.now(), 0
            self.db.append(s, SendRetryRequested(row.id), actor, row.message_ref, row.item_ref)

    def entries(self, status: OutboxStatus | str | None = None) -> list[OutboxEntry]:
        """Every outbox row (of one status), oldest first."""
        with self.db.reading() as s:
            query = select(OutboxRow).order_by(OutboxRow.id)
            if status:
                query = query.where(OutboxRow.status == OutboxStatus(status).value)
            return [_entry(r) for r in s.scalars(query)]

    def queue_health_alert(self, mail: OutgoingMail, condition: str, text: str, shadow: bool = False) -> None:
        """An alert to the admin address, and the event that says why it went."""
        with self.db.writing() as s:
            add(self.db, s, mail, None, None, OutboxStatus.WOULD_SEND if shadow else OutboxStatus.PENDING)
            self.db.append(s, HealthAlert(condition, text), "system")

    def acknowledged_since(self, since: dt.datetime, after_id: int = 0) -> tuple[list[str], int]:
        """The addresses of the acknowledgements queued (or that would have been) since then, of rows after
        `after_id` only, and the highest row id read: intake reads the window once a poll, then each batch
        reads only what was added (triage.acknowledging.AcknowledgementWindow compares them normalised)."""
        with self.db.reading() as s:  # the kind is compared here: on it, SQLite would scan its index, not the ids
            rows = s.execute(select(OutboxRow.id, OutboxRow.kind, OutboxRow.to_address).where(
                OutboxRow.id > after_id, OutboxRow.created_at >= since)).all()
        return ([to for _, kind, to in rows if kind == OutboxKind.ACKNOWLEDGEMENT.value],
                max((row_id for row_id, _, _ in rows), default=after_id))

    def _after_send(self, s: Session, row: OutboxRow, ok: bool) -> None:
        if row.kind != OutboxKind.REPLY.value or row.item_ref is None:
            return
        item = s.get_one(ItemRow, row.item_ref)
        item.status, item.updated_at = (Status.SENT if ok else Status.FAILED).value, self.db.now()


def add(db: Database, s: Session, mail: OutgoingMail, message_ref: int | None, item_ref: int | None,
        status: OutboxStatus) -> None:
    """Write one email to the outbox, and its event, in this transaction (approvals and health alerts)."""
    at = db.now()
    s.add(OutboxRow(kind=mail.kind.value, message_ref=message_ref, item_ref=item_ref, to_address=mail.to_address,
                    subject=mail.subject, raw=mail.raw, status=status.value, attempts=0, next_attempt_at=at,
                    last_error="", message_id_header=mail.message_id, created_at=at, claimed_at=None, sent_at=None))
    db.append(s, OutboxQueued(mail.kind, mail.to_address, status), "system", message_ref, item_ref)


def _entry(r: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=r.id, kind=OutboxKind(r.kind), to_address=r.to_address, subject=r.subject, raw=r.raw,
        status=OutboxStatus(r.status), attempts=r.attempts, last_error=r.last_error, created_at=r.created_at,
        sent_at=r.sent_at, next_attempt_at=r.next_attempt_at, item_id=r.item_ref, message_ref=r.message_ref,
    )
