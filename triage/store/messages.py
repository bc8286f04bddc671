"""Stored messages: whether one is known, storing new ones (with everything intake made of them), and
reading back where one came from and its bytes."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain import MessageOrigin, NewMessage
from ..errors import NotFound
from .batch import Batch, FolderPosition, Stored, _position
from .database import Database
from .folders import advance
from .tables import ItemRow, MessageRow


class DuplicateMessage(Exception):
    """Raised by add_message when the same message is already stored."""


class Messages:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._batch = Batch(db, lambda s, positions: advance(db, s, positions))

    def knows(self, key: str) -> bool:
        return bool(self.known_keys([key]))

    def known_keys(self, keys: list[str]) -> set[str]:
        """Which of these dedupe keys are already stored (a fetched batch's, in one query)."""
        with self.db.reading() as s:
            return set(s.scalars(select(MessageRow.dedupe_key).where(MessageRow.dedupe_key.in_(keys)))) if keys else set()

    def add_message(self, new: NewMessage) -> int | None:
        """Store a message with its classification, draft, queue item, outbox rows and events, atomically.

        Returns the queue item's id, or None when the message was only recorded. Raises
        DuplicateMessage when the same message (Message-ID and content) is already stored.
        """
        try:
            with self.db.writing() as s:
                item_id = self._batch._insert_messages(s, [new])[0]
                advance(self.db, s, [_position(new)])
                return item_id
        except IntegrityError as exc:
            if self.knows(new.key):
                raise DuplicateMessage(new.key) from None
            raise exc

    def add_messages(self, news: list[NewMessage]) -> list[int | None]:
        """Store many messages in one transaction (bulk loading, benchmarks); all or none."""
        with self.db.writing() as s:
            item_ids = self._batch._insert_messages(s, news)
            advance(self.db, s, [_position(new) for new in news])
            return item_ids

    def add_batch(self, news: list[NewMessage], seen: Iterable[FolderPosition] = ()) -> list[Stored]:
        """A fetched batch in one transaction, each folder advanced past it and past `seen` (batch.py)."""
        return self._batch.add_batch(news, seen)

    def message_origin(self, message_ref: int) -> MessageOrigin:
        with self.db.reading() as s:
            m = s.get_one(MessageRow, message_ref)
            return MessageOrigin(m.source, m.folder, m.uidvalidity, m.uid)

    def raw(self, item_id: int) -> bytes:
        """The original bytes of queue item `item_id`'s message, to thread a reply to it."""
        with self.db.reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            return s.get_one(MessageRow, item.message_ref).raw
