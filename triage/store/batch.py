"""Storing fetched messages in bulk: one transaction per batch, a few INSERT statements, the event chain
hashed in Python.

Storing a message used to cost an ORM unit of work and a transaction of its own, with about six events
each added, flushed and hashed one at a time: a third of intake's time. Here a batch's messages,
queue items, classifications, drafts, outbox rows and events are each written with one executemany
(SQLAlchemy Core `insert()` with a list of rows; attachments' decoded bytes, which may be large, with
one per message), and the events' hashes are linked in Python from the chain's head, read once per
transaction. The rows and events are exactly those a message got one at a time: the same names, data,
actors and links, in the same order.

Exactly-once is kept by the caller: the server's keyword is set only after this transaction commits.
When the bulk write fails for a reason that lies with a message rather than with the database (a
unique key another worker stored meanwhile, a value a column or driver refuses), the batch is written
again one message at a time, each inside a SAVEPOINT: a duplicate is rolled back to its savepoint and
reported, a message that still fails is stored as a stub for review (stubs.py), the rest commit. The
fast path stays one transaction and a few statements; the slow one is paid only by a batch that
needs it. A failure of the database itself (down, locked) rolls the batch back whole: nothing is
marked on the server and the next poll reads the batch again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .stubs import FROM_ADDRESS, FROM_NAME, INDEXED_BYTES, MESSAGE_ID, clip, environmental, error_kind, stub
from ..domain import NewMessage, OutboxStatus, ParsedMessage, Status
from ..events import (
    Classified,
    Drafted,
    Event,
    OutboxQueued,
    Parsed,
    ParseFailed,
    Queued,
    Received,
    RecordedOnly,
)
from .database import CHAIN_HEAD, Database, Pending
from .message_json import attachment_text, headers_json
from .attachments import attachment_rows
from .tables import AttachmentRow, ClassificationRow, DraftRow, ItemRow, MessageRow, OutboxRow

@dataclass(frozen=True)
class FolderPosition:
    """A message dealt with (stored now or already known), as the folder's high-water mark counts it."""

    source: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Stored:
    """What became of one message of a batch: its queue item (None when only recorded), or a duplicate."""

    item_id: int | None
    duplicate: bool = False
    storage_error: str = ""  # set when it could not be stored as it came: stored as a stub for review


log = logging.getLogger("triage.store")

class Batch:
    """store.messages.add_batch and the bulk write path that add_message and add_messages share.

    `advance` moves the folders' high-water marks (triage.store.folders.advance), in the same transaction."""

    def __init__(self, db: Database, advance: Callable[[Session, Iterable[FolderPosition]], None]) -> None:
        self.db = db
        self._advance_all = advance

    def add_batch(self, news: list[NewMessage], seen: Iterable[FolderPosition] = ()) -> list[Stored]:
        """Store a fetched batch's new messages in one transaction and advance each folder past them and
        past `seen` (the batch's messages already known). A message another worker stored meanwhile is
        reported as a duplicate (its savepoint rolled back); any other failure rolls the batch back whole."""
        seen = list(seen) + [_position(new) for new in news]
        try:
            with self.db.writing() as s:
                ids = self._insert_messages(s, news)
                self._advance_all(s, seen)
                return [Stored(item_id) for item_id in ids]
        except Exception as exc:
            if not news or environmental(exc):
                raise
            if not isinstance(exc, IntegrityError):
                log.warning("storing a batch of %d failed (%s): storing its messages one at a time",
                            len(news), error_kind(exc))
        with self.db.writing() as s:  # again, one savepoint per message
            stored = [self._insert_alone(s, new) for new in news]
            self._advance_all(s, seen)
            return stored

    def _insert_alone(self, s: Session, new: NewMessage) -> Stored:
        """One message in a savepoint: stored, a duplicate, or (when it fails) stored as a stub for review."""
        try:
            return Stored(self._insert_nested(s, new))
        except Exception as exc:
            if environmental(exc):
                raise
            if isinstance(exc, IntegrityError) and s.scalar(
                    select(MessageRow.id).where(MessageRow.dedupe_key == new.key)) is not None:
                return Stored(None, duplicate=True)
            failure = exc
        f = new.fetched
        log.error("message UID %d of %s/%s could not be stored (%s): storing it as a stub for review",
                  f.uid, f.source, f.folder, error_kind(failure))
        try:
            item_id = self._insert_nested(s, stub(new, failure))
        except Exception as exc:
            if environmental(exc):
                raise
            item_id = self._insert_nested(s, stub(new, failure, bare=True))  # the last resort
        return Stored(item_id, storage_error=error_kind(failure))

    def _insert_nested(self, s: Session, new: NewMessage) -> int | None:
        """Insert one message inside a SAVEPOINT; on failure its rows and events are rolled back."""
        head = s.info.get(CHAIN_HEAD)
        try:
            with s.begin_nested():
                return self._insert_messages(s, [new])[0]
        except BaseException:
            s.info[CHAIN_HEAD] = head  # the rolled-back events are not in the chain
            raise

    def _insert_messages(self, s: Session, news: list[NewMessage]) -> list[int | None]:
        """Insert the messages and everything that goes with them; each one's queue item id (None when
        only recorded). Events are appended to the chain in the order one-at-a-time storing made them."""
        if not news:
            return []
        message_ids = _insert_returning(s, MessageRow, [_message_row(new) for new in news])
        for new, mid in zip(news, message_ids, strict=True):  # one message's at a time: they may be large
            _insert(s, AttachmentRow, attachment_rows(new.parsed, mid))
        queued = [(new, mid) for new, mid in zip(news, message_ids, strict=True) if not new.recorded_only]
        item_ids = _insert_returning(s, ItemRow, [_item_row(new, mid) for new, mid in queued])
        item_of = {mid: iid for (_, mid), iid in zip(queued, item_ids, strict=True)}
        _insert(s, ClassificationRow, [_classification_row(new, mid) for new, mid in queued])
        _insert(s, DraftRow, [_draft_row(new, item_of[mid]) for new, mid in queued])
        _insert(s, OutboxRow, [_outbox_row(mail, mid, item_of[mid], new.outbox_status)
                               for new, mid in queued for mail in new.outgoing])
        pending = [e for new, mid in zip(news, message_ids) for e in _events(new, mid, item_of.get(mid))]
        self.db.append_all(s, pending)
        return [item_of.get(mid) for mid in message_ids]

def _now() -> dt.datetime:
    from . import database  # looked up at call time: tests set triage.store.database.now

    return database.now()


def _insert_returning(s: Session, table: type, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    t = table.__table__
    return list(s.execute(insert(t).returning(t.c.id, sort_by_parameter_order=True), rows).scalars())


def _insert(s: Session, table: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(insert(table.__table__), rows)


def _position(new: NewMessage) -> FolderPosition:
    f = new.fetched
    return FolderPosition(f.source, f.folder, f.uidvalidity, f.uid)


def _message_row(new: NewMessage) -> dict[str, Any]:
    f, p = new.fetched, new.parsed
    return {
        "dedupe_key": new.key, "source": f.source, "folder": f.folder, "uidvalidity": f.uidvalidity, "uid": f.uid,
        "message_id": clip(p.message_id, MESSAGE_ID, INDEXED_BYTES), "content_sha256": hashlib.sha256(f.raw).hexdigest(),
        "raw": f.raw, "from_name": clip(p.from_name, FROM_NAME), "from_address": clip(p.from_address, FROM_ADDRESS, 1000),
        "subject": p.subject,
        "sent_at": p.date, "received_at": f.internal_date or _now(), "body_text": p.text, "body_html": p.html,
        "attachment_text": attachment_text(p), "headers": headers_json(p), "is_automatic": p.auto.is_automatic,
        "parse_error": p.error, "recorded_only": new.recorded_only,
    }


def _needs_review(new: NewMessage) -> bool:
    assert new.classification is not None and new.draft is not None
    return new.classification.needs_review or bool(new.parsed.error)


def _status(new: NewMessage) -> str:
    return (Status.NEEDS_REVIEW if _needs_review(new) else Status.DRAFTED).value


def _item_row(new: NewMessage, message_ref: int) -> dict[str, Any]:
    c = new.classification
    at = _now()
    return {"message_ref": message_ref, "reference": new.reference, "status": _status(new), "route": c.label,
            "needs_review": _needs_review(new), "safeguarding": c.safeguarding, "claimed_by": None,
            "flags": list(new.flags), "due_at": new.due_at, "statutory_deadline": new.statutory_deadline,
            "appeal_deadline": new.appeal_deadline, "adviser_until": new.adviser_until,
            "created_at": at, "updated_at": at, "version": 1}


def _classification_row(new: NewMessage, message_ref: int) -> dict[str, Any]:
    c = new.classification
    return {"message_ref": message_ref, "model_version": c.model_version, "label": c.label,
            "confidence": c.confidence, "needs_review": c.needs_review, "safeguarding": c.safeguarding,
            "scores": dict(c.scores),
            "explanation": {"terms": list(c.explanation), "safeguarding": list(c.safeguarding_reasons),
                            "safeguarding_evidence": list(c.safeguarding_evidence),
                            "runner_up": list(c.runner_up) if c.runner_up else None},
            "created_at": _now()}


def _draft_row(new: NewMessage, item_ref: int) -> dict[str, Any]:
    d = new.draft
    return {"item_ref": item_ref, "version": 1, "route": new.classification.label, "subject": d.subject,
            "body_text": d.text, "body_html": d.html, "author": "system", "meta": dict(new.draft_meta or {}),
            "created_at": _now()}


def _outbox_row(mail: Any, message_ref: int | None, item_ref: int | None, status: OutboxStatus) -> dict[str, Any]:
    at = _now()
    return {"kind": mail.kind.value, "message_ref": message_ref, "item_ref": item_ref, "to_address": mail.to_address,
            "subject": mail.subject, "raw": mail.raw, "status": status.value, "attempts": 0, "next_attempt_at": at,
            "last_error": "", "message_id_header": mail.message_id, "created_at": at, "claimed_at": None,
            "sent_at": None}


def _events(new: NewMessage, message: int, item: int | None) -> list[Pending]:
    """A stored message's events, in the order (and with the data) the log has always had them."""
    f, p = new.fetched, new.parsed
    events: list[tuple[Event, int | None]] = [(Received(f.source, f.folder, f.uid, p.message_id), None),
                                              (_parse_event(p), None)]
    if new.recorded_only:
        events.append((RecordedOnly("older than [service] since"), None))
    else:
        c = new.classification
        events.append((Classified(
            model_version=c.model_version, label=c.label, confidence=round(c.confidence, 4),
            needs_review=c.needs_review, safeguarding=c.safeguarding,
            # The evidence sentences are the message's words: they stay in the classification row, not the log.
            scores={k: round(v, 4) for k, v in c.scores.items()},
            threshold=None if c.threshold is None else round(c.threshold, 4)), item))
        events.append((Drafted(c.label, 1, list(new.flags)), item))
        events.extend((OutboxQueued(mail.kind, mail.to_address, new.outbox_status), item) for mail in new.outgoing)
        events.append((Queued(_status(new), new.reference), item))
    events.extend((e, item) for e in new.events)  # intake's own (suppressed acknowledgement, flags ...)
    return [(event, "system", message, about) for event, about in events]


def _parse_event(p: ParsedMessage) -> Event:
    if p.error:
        return ParseFailed(p.error)
    return Parsed(p.auto.is_automatic, list(p.defects), len(p.attachments))
