"""Storing fetched messages in bulk: one transaction per batch, a few INSERT statements, the event chain
hashed in Python.

Storing a message used to cost an ORM unit of work and a transaction of its own, with about six events
each added, flushed and hashed one at a time: a third of intake's time. Here a batch's messages,
queue items, classifications, drafts, outbox rows and events are each written with one executemany
(SQLAlchemy Core `insert()` with a list of rows), and the events' hashes are linked in Python from the
chain's head, read once per transaction. The rows and events are exactly those a message got one at a
time: the same names, data, actors and links, in the same order.

Exactly-once is kept by the caller: the server's keyword is set only after this transaction commits.
When the bulk write breaks a unique constraint (another worker stored one of the messages meanwhile),
the batch is written again one message at a time, each inside a SAVEPOINT: a duplicate is rolled back
to its savepoint and reported, the rest commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit import event_digest
from ..domain import OutboxStatus, ParsedMessage, Status
from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow, OutboxRow

if TYPE_CHECKING:
    from . import NewMessage


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


# (name, message_ref, item_ref, data): an event waiting for its place in the chain.
_Pending = tuple[str, int, "int | None", dict[str, Any]]


class BatchMixin:
    """Store.add_batch and the bulk write path that add_message and add_messages share."""

    def add_batch(self, news: list[NewMessage], seen: Iterable[FolderPosition] = ()) -> list[Stored]:
        """Store a fetched batch's new messages in one transaction and advance each folder past them and
        past `seen` (the batch's messages already known). A message another worker stored meanwhile is
        reported as a duplicate (its savepoint rolled back); any other failure rolls the batch back whole."""
        seen = list(seen) + [_position(new) for new in news]
        try:
            with self._session() as s:
                ids = self._insert_messages(s, news)
                self._advance_all(s, seen)
                return [Stored(item_id) for item_id in ids]
        except IntegrityError:
            if not news:
                raise
        with self._session() as s:  # again, one savepoint per message
            stored = [self._insert_alone(s, new) for new in news]
            self._advance_all(s, seen)
            return stored

    def _insert_alone(self, s: Session, new: NewMessage) -> Stored:
        head = s.info.get(_chain_head_key())
        try:
            with s.begin_nested():
                return Stored(self._insert_messages(s, [new])[0])
        except IntegrityError:
            s.info[_chain_head_key()] = head  # the rolled-back events are not in the chain
            if s.scalar(select(MessageRow.id).where(MessageRow.dedupe_key == new.key)) is None:
                raise
            return Stored(None, duplicate=True)

    def _advance_all(self, s: Session, positions: Iterable[FolderPosition]) -> None:
        highest: dict[tuple[str, str, int], int] = {}
        for p in positions:
            key = (p.source, p.folder, p.uidvalidity)
            highest[key] = max(highest.get(key, 0), p.uid)
        for (source, folder, uidvalidity), uid in highest.items():
            self._advance(s, source, folder, uidvalidity, uid)

    def _insert_messages(self, s: Session, news: list[NewMessage]) -> list[int | None]:
        """Insert the messages and everything that goes with them; each one's queue item id (None when
        only recorded). Events are appended to the chain in the order one-at-a-time storing made them."""
        if not news:
            return []
        message_ids = _insert_returning(s, MessageRow, [_message_row(new) for new in news])
        queued = [(new, mid) for new, mid in zip(news, message_ids, strict=True) if not new.recorded_only]
        item_ids = _insert_returning(s, ItemRow, [_item_row(new, mid) for new, mid in queued])
        item_of = {mid: iid for (_, mid), iid in zip(queued, item_ids, strict=True)}
        _insert(s, ClassificationRow, [_classification_row(new, mid) for new, mid in queued])
        _insert(s, DraftRow, [_draft_row(new, item_of[mid]) for new, mid in queued])
        _insert(s, OutboxRow, [_outbox_row(mail, mid, item_of[mid], new.outbox_status)
                               for new, mid in queued for mail in new.outgoing])
        pending = [e for new, mid in zip(news, message_ids) for e in _events(new, mid, item_of.get(mid))]
        self._append_events(s, pending)
        return [item_of.get(mid) for mid in message_ids]

    def _append_events(self, s: Session, pending: list[_Pending]) -> None:
        """Link the events to the chain's head in Python, then write them in one statement (ids follow
        the list's order, so they follow the chain)."""
        if not pending:
            return
        prev = self._chain_head(s)
        rows = []
        for name, message, item, data in pending:
            at = _now()
            digest = event_digest(at, "system", name, message, item, data, prev)
            rows.append({"at": at, "actor": "system", "name": name, "message_ref": message, "item_ref": item,
                         "data": data, "prev_hash": prev, "hash": digest})
            prev = digest
        _insert(s, EventRow, rows)
        s.info[_chain_head_key()] = prev


def _now() -> dt.datetime:
    from . import now  # looked up at call time: tests set triage.store.now

    return now()


def _chain_head_key() -> str:
    from . import _CHAIN_HEAD

    return _CHAIN_HEAD


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
    from . import _attachment_text, _headers_json

    f, p = new.fetched, new.parsed
    return {
        "dedupe_key": new.key, "source": f.source, "folder": f.folder, "uidvalidity": f.uidvalidity, "uid": f.uid,
        "message_id": p.message_id[:998], "content_sha256": hashlib.sha256(f.raw).hexdigest(), "raw": f.raw,
        "from_name": p.from_name[:300], "from_address": p.from_address[:320], "subject": p.subject,
        "sent_at": p.date, "received_at": f.internal_date or _now(), "body_text": p.text, "body_html": p.html,
        "attachment_text": _attachment_text(p), "headers": _headers_json(p), "is_automatic": p.auto.is_automatic,
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


def outbox_event_name(kind: str, status: OutboxStatus) -> str:
    return f"{kind}_would_send" if status is OutboxStatus.WOULD_SEND else f"{kind}_queued"


def _events(new: NewMessage, message: int, item: int | None) -> list[_Pending]:
    """A stored message's events, in the order (and with the data) the log has always had them."""
    f, p = new.fetched, new.parsed
    events: list[_Pending] = [
        ("received", message, None, {"source": f.source, "folder": f.folder, "uid": f.uid,
                                     "message_id": p.message_id}),
        _parse_event(p, message),
    ]
    if new.recorded_only:
        events.append(("recorded_only", message, None, {"reason": "older than [service] since"}))
    else:
        c = new.classification
        events.append(("classified", message, item, {
            "model_version": c.model_version, "label": c.label, "confidence": round(c.confidence, 4),
            "needs_review": c.needs_review, "safeguarding": c.safeguarding,
            # The evidence sentences are the message's words: they stay in the classification row, not the log.
            "scores": {k: round(v, 4) for k, v in c.scores.items()},
            "threshold": None if c.threshold is None else round(c.threshold, 4),
        }))
        events.append(("drafted", message, item, {"route": c.label, "version": 1, "flags": list(new.flags)}))
        events.extend((outbox_event_name(mail.kind.value, new.outbox_status), message, item, {"to": mail.to_address})
                      for mail in new.outgoing)
        events.append(("queued", message, item, {"status": _status(new), "reference": new.reference}))
    events.extend((name, message, item, data) for name, data in new.events)
    return events


def _parse_event(p: ParsedMessage, message: int) -> _Pending:
    if p.error:
        return ("parse_failed", message, None, {"error": p.error})
    return ("parsed", message, None, {"automatic": p.auto.is_automatic, "defects": list(p.defects),
                                      "attachments": len(p.attachments)})


