"""Where intake stands in each mailbox folder: its UIDVALIDITY, the highest UID dealt with, and the
lock that lets one worker poll a mailbox at a time."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..events import UidValidityChanged
from .batch import FolderPosition
from .database import Database
from .tables import FolderStateRow, MessageRow


class Folders:
    def __init__(self, db: Database) -> None:
        self.db = db

    def folder_state(self, source: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) recorded for a folder, or None when never read."""
        with self.db.reading() as s:
            row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder))
            return (row.uidvalidity, row.last_uid) if row else None

    def reset_folder(self, source: str, folder: str, uidvalidity: int) -> None:
        """Start a folder again from UID 1 under a new UIDVALIDITY (messages are deduplicated)."""
        with self.db.writing() as s:
            row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder))
            at = self.db.now()
            if row is None:
                s.add(FolderStateRow(source=source, folder=folder, uidvalidity=uidvalidity, last_uid=0, updated_at=at))
            else:
                old = row.uidvalidity
                row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, 0, at
                self.db.append(s, UidValidityChanged(folder, old, uidvalidity), "system")

    def advance_folder(self, source: str, folder: str, uidvalidity: int, uid: int) -> None:
        """Record that every UID up to `uid` has been dealt with (used for duplicates)."""
        with self.db.writing() as s:
            advance(self.db, s, [FolderPosition(source, folder, uidvalidity, uid)])

    def stored_uids(self, source: str, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
        """Which of these UIDs are already stored (to repair a missing server keyword)."""
        found: set[int] = set()
        with self.db.reading() as s:
            for start in range(0, len(uids), 500):
                chunk = uids[start : start + 500]
                found.update(s.scalars(select(MessageRow.uid).where(
                    MessageRow.source == source, MessageRow.folder == folder,
                    MessageRow.uidvalidity == uidvalidity, MessageRow.uid.in_(chunk))))
        return found

    @contextmanager
    def mailbox_lock(self, source: str) -> Iterator[bool]:
        """Yields True when this process may poll `source` now, False when another worker is polling it.

        PostgreSQL: a session advisory lock on a connection held for the poll, released when the poll
        ends or the process dies. SQLite is for one worker, so it always yields True.
        """
        if self.db.dialect != "postgresql":
            yield True
            return
        key = int.from_bytes(hashlib.sha256(f"mailbox\0{source}".encode()).digest()[:8], "big", signed=True)
        with self.db.engine.connect() as connection:
            got = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
            connection.commit()
            try:
                yield got
            finally:
                if got:
                    connection.scalar(select(func.pg_advisory_unlock(key)))
                    connection.commit()


def advance(db: Database, s: Session, positions: Iterable[FolderPosition]) -> None:
    """Move each folder's high-water mark up to the highest of these positions (never down)."""
    highest: dict[tuple[str, str, int], int] = {}
    for p in positions:
        key = (p.source, p.folder, p.uidvalidity)
        highest[key] = max(highest.get(key, 0), p.uid)
    for (source, folder, uidvalidity), uid in highest.items():
        row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder).with_for_update())
        if row is None:
            s.add(FolderStateRow(source=source, folder=folder, uidvalidity=uidvalidity, last_uid=uid,
                                 updated_at=db.now()))
        elif uid > row.last_uid:
            row.last_uid, row.updated_at = uid, db.now()
