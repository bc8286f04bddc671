"""Deleting one or more messages' personal data everywhere in the database, and compacting the files
afterwards: what retention purges and erasure erases (triage.store.privacy decides which and records why).

A purged message keeps its row and its item's (ids, dedupe key and content hash, times, route,
status), so counts, the dashboard and exactly-once intake still work; its text, addresses, stored
attachments (their rows deleted), drafts, classification evidence, outgoing mail and the personal
fields of its events are deleted. Events keep their ids and hashes: audit.erase() removes the personal
values the chain holds as digests. compact() then rewrites the database files so the old text is not
left in free pages or the WAL.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ..audit import erase
from ..domain import OutboxStatus
from ..errors import InvalidAction
from .database import Database
from .tables import AttachmentRow, ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow, OutboxRow

ERASED_TEXT = "[erased]"
_TABLES = ("messages", "attachments", "classifications", "drafts", "outbox", "events", "erasure_requests")


@dataclass(frozen=True)
class Removed:
    """What deleting personal data touched: counts, and the outbox rows whose .eml files to delete."""

    messages: list[int]
    items: list[int]
    events: int
    events_kept: int  # written before hash version 2: their text cannot be removed without breaking the chain
    outbox: int
    outbox_files: list[str] = field(default_factory=list)  # "000012-reply.eml"


def remove_personal_data(s: Session, message_ids: list[int], reason: str, at: dt.datetime) -> Removed:
    """Delete these messages' personal data everywhere in the session (retention and erasure share it):
    text, addresses, drafts, classification evidence, unsent mail, and the personal values of events."""
    if not message_ids:
        return Removed([], [], 0, 0, 0)
    messages = list(s.scalars(select(MessageRow).where(MessageRow.id.in_(message_ids))))
    items = list(s.scalars(select(ItemRow).where(ItemRow.message_ref.in_(message_ids))))
    item_ids = [i.id for i in items]
    sending = s.scalar(select(OutboxRow.id).where(
        or_(OutboxRow.message_ref.in_(message_ids), OutboxRow.item_ref.in_(item_ids or [-1])),
        OutboxRow.status == OutboxStatus.SENDING.value).limit(1))
    if sending is not None:
        raise InvalidAction(f"outbox row {sending} of this message is being sent right now; try again in a "
                            f"minute")
    for m in messages:
        m.raw, m.body_text, m.body_html, m.attachment_text = b"", "", "", ""
        m.subject, m.from_name, m.from_address, m.message_id = ERASED_TEXT, "", "", ""
        m.headers, m.parse_error = {}, ""
        m.purged_at, m.purge_reason = at, reason
    s.execute(delete(AttachmentRow).where(AttachmentRow.message_ref.in_(message_ids)))  # the files themselves
    for c in s.scalars(select(ClassificationRow).where(ClassificationRow.message_ref.in_(message_ids))):
        c.explanation = {}  # the evidence sentences and the words behind the route and the flag
    for d in s.scalars(select(DraftRow).where(DraftRow.item_ref.in_(item_ids or [-1]))):
        d.subject, d.body_text, d.body_html, d.meta = ERASED_TEXT, "", "", {}
    outbox = list(s.scalars(select(OutboxRow).where(
        or_(OutboxRow.message_ref.in_(message_ids), OutboxRow.item_ref.in_(item_ids or [-1])))))
    files = [f"{o.id:06d}-{o.kind}.eml" for o in outbox]
    for o in outbox:
        if o.status in (OutboxStatus.PENDING.value, OutboxStatus.WOULD_SEND.value):
            s.delete(o)  # never sent: nothing to keep, and it must not go out with its text gone
        else:
            o.raw, o.to_address, o.subject, o.last_error, o.message_id_header = b"", "", ERASED_TEXT, "", ""
    erased = kept = 0
    events = s.scalars(select(EventRow).where(
        or_(EventRow.message_ref.in_(message_ids), EventRow.item_ref.in_(item_ids or [-1]))))
    for e in events:
        if e.hash_version < 2:
            kept += 1
        elif e.salt is not None and e.digests:
            e.data, e.salt = erase(e.data, e.digests), None
            erased += 1
    s.flush()
    return Removed([m.id for m in messages], item_ids, erased, kept, len(outbox), files)


def compact(db: Database, wait_seconds: float = 30.0) -> bool:
    """Rewrite the touched tables so deleted text is not left in free pages, old row versions or the
    WAL: SQLite VACUUM then a TRUNCATE checkpoint (retried while a reader holds an old snapshot);
    PostgreSQL VACUUM FULL of each table. False when SQLite's WAL could not be emptied in time (a
    reader held on): its old pages are overwritten by later checkpoints, and the next compact retries."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for table in _TABLES:
                c.exec_driver_sql(f"VACUUM FULL {table}")
            c.exec_driver_sql("CHECKPOINT")
        return True
    if db.dialect != "sqlite":
        return True
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("VACUUM")
        deadline = time.monotonic() + wait_seconds
        while True:
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        cursor.close()
        return not busy
    finally:
        raw.close()
