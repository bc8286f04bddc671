"""The event log: recording a catalogue event in a transaction of its own, and reading events back."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from sqlalchemy import select

from ..audit import ChainEvent
from ..events import Event
from .database import Database
from .tables import EventRow


class Events:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, event: Event, actor: str = "system", message: int | None = None,
               item: int | None = None) -> None:
        """Append one event (triage.events) to the chain in a transaction of its own."""
        with self.db.writing() as s:
            self.db.append(s, event, actor, message, item)

    def of_item(self, item_id: int) -> list[dict[str, Any]]:
        """The events recorded about one queue item, oldest first."""
        return self._read(item_id)

    def all(self) -> list[dict[str, Any]]:
        """Every event, oldest first (tests and small tools: the log pages are store.reports.audit_log)."""
        return self._read(None)

    def _read(self, item: int | None) -> list[dict[str, Any]]:
        with self.db.reading() as s:
            query = select(EventRow).order_by(EventRow.id)
            if item is not None:
                query = query.where(EventRow.item_ref == item)
            return [{"id": e.id, "at": e.at, "actor": e.actor, "name": e.name, "message": e.message_ref,
                     "item": e.item_ref, "data": e.data} for e in s.scalars(query)]

    def chain(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Iterator[ChainEvent]:
        """Every event in id order (optionally within a time range), as audit.verify and export need them."""
        with self.db.reading() as s:
            query = select(EventRow).order_by(EventRow.id).execution_options(yield_per=1000)
            if start is not None:
                query = query.where(EventRow.at >= start)
            if end is not None:
                query = query.where(EventRow.at < end)
            for e in s.scalars(query):
                yield ChainEvent(e.id, e.at, e.actor, e.name, e.message_ref, e.item_ref, e.data, e.prev_hash, e.hash,
                                 e.hash_version, e.salt, e.digests)
