"""Stored attachments: each one's decoded bytes written once, at intake, beside its message; read back in
pieces for a download.

A download used to parse the whole raw message again to find one part: six parallel downloads of a
50 MB attachment held 2.5 GB. Now intake stores each attachment's bytes in the `attachments` table in
the same transaction as its message (batch.py), and a download reads them CHUNK_BYTES at a time with
substr() (SQLite) / substring() (PostgreSQL) over the column, one short read transaction per piece, so
it never holds more than a piece and never parses anything. On PostgreSQL the column is stored
uncompressed (STORAGE EXTERNAL, migration 0012) so that a piece is read without decompressing the whole
value. Retention and erasure delete the rows (personal_data.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import func, select

from ..domain import ParsedMessage
from ..errors import NotFound
from .database import Database
from .tables import AttachmentRow, ItemRow

CHUNK_BYTES = 1024 * 1024  # what one read of a download holds


@dataclass(frozen=True)
class StoredAttachment:
    """One stored attachment's description, and `chunks()`: its bytes, read a piece at a time."""

    id: int
    index: int
    filename: str
    content_type: str
    size: int
    sha256: str
    db: Database

    def chunks(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The bytes in order, each piece read in its own short transaction. Stops early (fewer bytes
        than `size`) if the row is deleted meanwhile, as erasure may do: nothing erased is sent."""
        column = AttachmentRow.data
        for start in range(0, self.size, chunk_bytes):
            with self.db.reading() as s:
                piece = s.scalar(select(func.substr(column, start + 1, chunk_bytes))
                                 .where(AttachmentRow.id == self.id))
            if not piece:
                return
            yield bytes(piece)


class Attachments:
    """store.attachments: the stored attachments of queue items' messages."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, item_id: int, index: int) -> StoredAttachment:
        """Attachment `index` (its position in the message's attachments) of queue item `item_id`'s
        message, its bytes not yet read. NotFound when there is no such item or attachment."""
        with self.db.reading() as s:
            row = s.execute(
                select(AttachmentRow.id, AttachmentRow.index, AttachmentRow.filename, AttachmentRow.content_type,
                       AttachmentRow.size, AttachmentRow.sha256)
                .join(ItemRow, ItemRow.message_ref == AttachmentRow.message_ref)
                .where(ItemRow.id == item_id, AttachmentRow.index == index)).one_or_none()
        if row is None:
            raise NotFound(f"no attachment {index} of queue item {item_id}")
        return StoredAttachment(row.id, row.index, row.filename, row.content_type, row.size, row.sha256, self.db)


def attachment_rows(parsed: ParsedMessage, message_ref: int) -> list[dict[str, Any]]:
    """The `attachments` rows of one parsed message: each listed attachment with its decoded bytes."""
    return [{"message_ref": message_ref, "index": n, "filename": a.filename, "content_type": a.content_type,
             "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": data}
            for n, (a, data) in enumerate(zip(parsed.attachments, parsed.attachment_data))]
