"""The Store's privacy part: which messages retention may purge, everything held about one person, and
the erasure requests a second person confirms. Deleting the personal data itself (shared by retention
and erasure) and compacting the database afterwards are in triage.store.personal_data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..domain import Status
from ..errors import InvalidAction, NotFound
from ..events import Erased, ErasureCancelled, ErasureRequested, Event
from .database import Database
from .personal_data import Removed, compact, remove_personal_data
from .subject_records import Found, SubjectRecord, records, search
from .tables import Base, EventRow, ItemRow, MessageRow

CLOSED = (Status.SENT.value, Status.REJECTED.value, Status.HANDLED_ELSEWHERE.value)
# The events that close an item, and so start its retention period.
CLOSING_EVENTS = ("reply_sent", "rejected", "handled_elsewhere")


class ErasureRequestRow(Base):
    """An erasure asked for in the web app, waiting for a second person to confirm (or cancel) it."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_ref: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))  # pending, erased, cancelled
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None]


@dataclass(frozen=True)
class Closed:
    """A message retention may purge: its item closed (or, recorded only, it arrived) before the cut-off."""

    message_id: int
    item_id: int | None
    reference: str
    status: str
    closed_at: dt.datetime


@dataclass(frozen=True)
class StillOpen:
    """An item never closed, received before the cut-off: reported for a person, never deleted."""

    item_id: int
    reference: str
    status: str
    received_at: dt.datetime



@dataclass(frozen=True)
class ErasureRequest:
    id: int
    item_id: int
    reference: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None


class Privacy:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- retention -------------------------------------------------------------------------------

    def closed_before(self, cutoff: dt.datetime) -> list[Closed]:
        """Messages not yet purged whose item closed (sent, rejected, handled elsewhere) before the cut-off,
        and recorded-only messages (no item) received before it."""
        closing = (select(EventRow.item_ref, func.max(EventRow.at).label("at"))
                   .where(EventRow.name.in_(CLOSING_EVENTS), EventRow.item_ref.is_not(None))
                   .group_by(EventRow.item_ref).subquery())
        with self.db.reading() as s:
            items = s.execute(
                select(MessageRow.id, ItemRow.id, ItemRow.reference, ItemRow.status, closing.c.at)
                .join(ItemRow, ItemRow.message_ref == MessageRow.id)
                .join(closing, closing.c.item_ref == ItemRow.id)
                .where(ItemRow.status.in_(CLOSED), closing.c.at < cutoff, MessageRow.purged_at.is_(None))
                .order_by(closing.c.at, ItemRow.id))
            found = [Closed(m, i, ref, status, at) for m, i, ref, status, at in items]
            recorded = s.execute(
                select(MessageRow.id, MessageRow.received_at)
                .outerjoin(ItemRow, ItemRow.message_ref == MessageRow.id)
                .where(ItemRow.id.is_(None), MessageRow.received_at < cutoff, MessageRow.purged_at.is_(None))
                .order_by(MessageRow.received_at, MessageRow.id))
            found += [Closed(m, None, "", "recorded_only", at) for m, at in recorded]
        return found

    def open_before(self, cutoff: dt.datetime) -> list[StillOpen]:
        """Items not closed whose message arrived before the cut-off."""
        with self.db.reading() as s:
            rows = s.execute(
                select(ItemRow.id, ItemRow.reference, ItemRow.status, MessageRow.received_at)
                .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                .where(ItemRow.status.not_in(CLOSED), MessageRow.received_at < cutoff,
                       MessageRow.purged_at.is_(None))
                .order_by(MessageRow.received_at, ItemRow.id))
            return [StillOpen(*row) for row in rows]

    def purge(self, message_ids: list[int], reason: str, event_for: Callable[[Removed], Event], actor: str) -> Removed:
        """Delete these messages' personal data and append the purge's own event (made from what was removed),
        in one transaction."""
        with self.db.writing() as s:
            removed = self._remove(s, message_ids, reason)
            self.db.append(s, event_for(removed), actor)
        return removed

    # -- erasure ---------------------------------------------------------------------------------

    def request_erasure(self, item_id: int, reason: str, actor: str) -> int:
        """Ask for an item's message to be erased; a second person confirms it (confirm_erasure)."""
        with self.db.writing() as s:
            item = self._item(s, item_id)
            if s.scalar(select(ErasureRequestRow.id).where(ErasureRequestRow.item_ref == item_id,
                                                           ErasureRequestRow.status == "pending")):
                raise InvalidAction(f"item {item_id} already has an erasure request waiting for confirmation")
            row = ErasureRequestRow(item_ref=item.id, reason=reason, requested_by=actor, requested_at=self.db.now(),
                                    status="pending", decided_by=None, decided_at=None)
            s.add(row)
            s.flush()
            self.db.append(s, ErasureRequested(request=row.id, reason=reason), actor, item.message_ref, item.id)
            return row.id

    def cancel_erasure(self, request_id: int, actor: str) -> None:
        with self.db.writing() as s:
            row = self._pending(s, request_id)
            row.status, row.decided_by, row.decided_at = "cancelled", actor, self.db.now()
            item = s.get_one(ItemRow, row.item_ref)
            self.db.append(s, ErasureCancelled(request=row.id), actor, item.message_ref, item.id)

    def confirm_erasure(self, request_id: int, actor: str) -> tuple[ErasureRequest, Removed]:
        """The second person confirms: the message's personal data is erased, a tombstone event kept."""
        with self.db.writing() as s:
            row = self._pending(s, request_id)
            if row.requested_by.lower() == actor.lower():
                raise InvalidAction(f"erasure request {request_id} was made by {actor}: a second person must "
                                    f"confirm it")
            row.status, row.decided_by, row.decided_at = "erased", actor, self.db.now()
            removed = self._erase_item(s, row.item_ref, row.reason, row.requested_by, actor, row.id)
            request = _request(row, s.get_one(ItemRow, row.item_ref).reference)
        return request, removed

    def erase_now(self, item_id: int, reason: str, actor: str) -> Removed:
        """Erase at once (the CLI: one person with access to the server, named by --as)."""
        with self.db.writing() as s:
            return self._erase_item(s, item_id, reason, actor, actor, None)

    def erasure_requests(self, status: str | None = "pending") -> list[ErasureRequest]:
        with self.db.reading() as s:
            query = (select(ErasureRequestRow, ItemRow.reference)
                     .join(ItemRow, ItemRow.id == ErasureRequestRow.item_ref).order_by(ErasureRequestRow.id.desc()))
            if status:
                query = query.where(ErasureRequestRow.status == status)
            return [_request(row, ref) for row, ref in s.execute(query)]

    def _erase_item(self, s: Session, item_id: int, reason: str, requested_by: str, actor: str,
                    request: int | None) -> Removed:
        item = self._item(s, item_id)
        message = s.get_one(MessageRow, item.message_ref)
        if message.purged_at is not None:
            raise InvalidAction(f"item {item_id}'s personal data was already deleted ({message.purge_reason}, "
                                f"{message.purged_at:%Y-%m-%d})")
        before = item.status
        if item.status not in CLOSED:  # nothing left to act on: it leaves the queue
            item.status, item.updated_at = Status.HANDLED_ELSEWHERE.value, self.db.now()
        removed = self._remove(s, [message.id], "erasure")
        self.db.append(s, Erased(request=request, reason=reason, requested_by=requested_by, status_before=before,
                                 events=removed.events, outbox=removed.outbox, files=len(removed.outbox_files)),
                       actor, message.id, item.id)
        return removed

    def _item(self, s: Session, item_id: int) -> ItemRow:
        item = s.get(ItemRow, item_id)
        if item is None:
            raise NotFound(f"no queue item {item_id}")
        return item

    def _pending(self, s: Session, request_id: int) -> ErasureRequestRow:
        row = s.get(ErasureRequestRow, request_id)
        if row is None:
            raise NotFound(f"no erasure request {request_id}")
        if row.status != "pending":
            raise InvalidAction(f"erasure request {request_id} is already {row.status}")
        return row

    # -- deleting personal data (retention and erasure) --------------------------------------------

    def _remove(self, s: Session, message_ids: list[int], reason: str) -> Removed:
        return remove_personal_data(s, message_ids, reason, self.db.now())

    def compact(self, wait_seconds: float = 30.0) -> bool:
        """Rewrite the touched tables so deleted text is not left in free pages, old row versions or the
        WAL (see personal_data.compact); False when SQLite's WAL could not be emptied in time."""
        return compact(self.db, wait_seconds)

    # -- subject access (the queries are in subject_records.py) ---------------------------------------

    def search(self, address: str, name: str = "", reference: str = "") -> list[Found]:
        """Messages from this address (certain), then candidates by name, reference or address in the text."""
        with self.db.reading() as s:
            return search(s, address, name, reference)

    def records(self, message_ids: list[int]) -> list[SubjectRecord]:
        """Everything held about these messages, oldest first."""
        with self.db.reading() as s:
            return records(s, message_ids)

    def record(self, event: Event, actor: str) -> None:
        with self.db.writing() as s:
            self.db.append(s, event, actor)


def _request(row: ErasureRequestRow, reference: str) -> ErasureRequest:
    return ErasureRequest(row.id, row.item_ref, reference, row.reason, row.requested_by, row.requested_at, row.status,
                          row.decided_by, row.decided_at)
