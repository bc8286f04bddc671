"""The only code that talks to the database. Methods take and return domain values, never ORM rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..domain import Classification, DraftText, FetchedMail, OutboxKind, OutboxStatus, ParsedMessage, QueueEntry, Status
from ..errors import Conflict, InvalidAction, NotFound
from ..audit import GENESIS_HASH, ChainEvent, event_digest
from .accounts import AccountsMixin
from .batch import BatchMixin, FolderPosition, Stored, _position, outbox_event_name
from .records import (
    ClassificationView,
    DraftVersion,
    ItemDetail,
    MessageView,
    QueuePage,
    QueueQuery,
    QueueRow,
    User,
)
from .health import HealthMixin, PollStatus, WorkCounts
from .learning import LearningMixin
from .review import ReviewMixin
from .supervision import SupervisionMixin
from .tables import (
    ClassificationRow,
    DraftRow,
    EventRow,
    FolderStateRow,
    ItemRow,
    MessageRow,
    OutboxRow,
)

__all__ = ["Store", "NewMessage", "Stored", "FolderPosition",
           "OutgoingMail", "OutboxEntry", "MessageOrigin", "DuplicateMessage", "dedupe_key",
           "now", "QueueQuery", "QueuePage", "QueueRow", "ItemDetail", "MessageView", "ClassificationView",
           "DraftVersion", "User", "PollStatus", "WorkCounts"]

_MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL advisory lock keys: appending to the event chain, and migrating the schema.
_EVENT_CHAIN_LOCK = 0x45484354  # "EHCT"
_CHAIN_HEAD = "event_chain_head"  # Session.info key: the hash of the last event this transaction appended
_MIGRATION_LOCK = 0x45484D47  # "EHMG"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def dedupe_key(parsed_message_id: str, raw: bytes) -> str:
    """Identity of a message across folders and UIDVALIDITY changes: Message-ID plus content hash."""
    content = hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(f"{parsed_message_id}\0{content}".encode()).hexdigest()


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
    id: int
    kind: str
    to_address: str
    subject: str
    raw: bytes
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime
    item_id: int | None
    message_ref: int | None


@dataclass(frozen=True)
class MessageOrigin:
    """Where a stored message came from, to mark it answered on the server."""

    source: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class NewMessage:
    """Everything intake learned about one message, stored in one transaction."""

    fetched: FetchedMail
    parsed: ParsedMessage
    key: str
    reference: str
    recorded_only: bool
    classification: Classification | None = None
    draft: DraftText | None = None
    draft_meta: dict[str, Any] | None = None
    flags: tuple[str, ...] = ()
    due_at: dt.datetime | None = None  # the reply-by date promised (or that would have been)
    statutory_deadline: dt.date | None = None  # the earliest mediation/appeal deadline still to act on
    outgoing: tuple[OutgoingMail, ...] = ()
    outbox_status: OutboxStatus = OutboxStatus.PENDING
    events: tuple[tuple[str, dict[str, Any]], ...] = ()


class Store(BatchMixin, ReviewMixin, SupervisionMixin, LearningMixin, HealthMixin, AccountsMixin):
    """The service's database: messages, classifications, queue items, drafts, outbox, event log and users."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(read_only=True), expire_on_commit=False)

    # -- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":  # two workers starting at once: one migrates
                connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A transaction that may write; on SQLite it takes the write lock at BEGIN (IMMEDIATE), so two
        writers queue instead of both reading the event chain's last hash and one failing at COMMIT."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A transaction that only reads: it never waits for a writer."""
        with self._read_sessions.begin() as session:
            yield session

    # -- intake ------------------------------------------------------------------------------

    def folder_state(self, source: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) recorded for a folder, or None when never read."""
        with self._reading() as s:
            row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder))
            return (row.uidvalidity, row.last_uid) if row else None

    def reset_folder(self, source: str, folder: str, uidvalidity: int) -> None:
        """Start a folder again from UID 1 under a new UIDVALIDITY (messages are deduplicated)."""
        with self._session() as s:
            row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder))
            if row is None:
                s.add(FolderStateRow(source=source, folder=folder, uidvalidity=uidvalidity, last_uid=0, updated_at=now()))
            else:
                old = row.uidvalidity
                row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, 0, now()
                self._event(s, "uidvalidity_changed", "system", data={"folder": folder, "old": old, "new": uidvalidity})

    def advance_folder(self, source: str, folder: str, uidvalidity: int, uid: int) -> None:
        """Record that every UID up to `uid` has been dealt with (used for duplicates)."""
        with self._session() as s:
            self._advance(s, source, folder, uidvalidity, uid)

    def _advance(self, s: Session, source: str, folder: str, uidvalidity: int, uid: int) -> None:
        row = s.scalar(select(FolderStateRow).filter_by(source=source, folder=folder).with_for_update())
        if row is None:
            s.add(FolderStateRow(source=source, folder=folder, uidvalidity=uidvalidity, last_uid=uid, updated_at=now()))
        elif uid > row.last_uid:
            row.last_uid, row.updated_at = uid, now()

    def knows(self, key: str) -> bool:
        return bool(self.known_keys([key]))

    def known_keys(self, keys: list[str]) -> set[str]:
        """Which of these dedupe keys are already stored (a fetched batch's, in one query)."""
        with self._reading() as s:
            return set(s.scalars(select(MessageRow.dedupe_key).where(MessageRow.dedupe_key.in_(keys)))) if keys else set()

    def stored_uids(self, source: str, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
        """Which of these UIDs are already stored (to repair a missing server keyword)."""
        found: set[int] = set()
        with self._reading() as s:
            for start in range(0, len(uids), 500):
                chunk = uids[start : start + 500]
                found.update(
                    s.scalars(
                        select(MessageRow.uid).where(
                            MessageRow.source == source,
                            MessageRow.folder == folder,
                            MessageRow.uidvalidity == uidvalidity,
                            MessageRow.uid.in_(chunk),
                        )
                    )
                )
        return found

    def add_message(self, new: NewMessage) -> int | None:
        """Store a message with its classification, draft, queue item, outbox rows and events, atomically.

        Returns the queue item's id, or None when the message was only recorded. Raises
        DuplicateMessage when the same message (Message-ID and content) is already stored.
        """
        try:
            with self._session() as s:
                item_id = self._insert_messages(s, [new])[0]
                self._advance_all(s, [_position(new)])
                return item_id
        except IntegrityError as exc:
            if self.knows(new.key):
                raise DuplicateMessage(new.key) from None
            raise exc

    def add_messages(self, news: list[NewMessage]) -> list[int | None]:
        """Store many messages in one transaction (bulk loading, benchmarks); all or none."""
        with self._session() as s:
            item_ids = self._insert_messages(s, news)
            self._advance_all(s, [_position(new) for new in news])
            return item_ids

    def _add_outbox(self, s: Session, mail: OutgoingMail, message_ref: int | None, item_ref: int | None,
                    status: OutboxStatus) -> None:
        s.add(OutboxRow(kind=mail.kind.value, message_ref=message_ref, item_ref=item_ref, to_address=mail.to_address,
                        subject=mail.subject, raw=mail.raw, status=status.value, attempts=0, next_attempt_at=now(),
                        last_error="", message_id_header=mail.message_id, created_at=now(), claimed_at=None,
                        sent_at=None))
        self._event(s, outbox_event_name(mail.kind.value, status), "system", message=message_ref, item=item_ref, data={"to": mail.to_address})

    def queue_health_alert(self, mail: OutgoingMail, condition: str, text: str, shadow: bool = False) -> None:
        """An alert to the admin address, and the event that says why it went."""
        with self._session() as s:
            self._add_outbox(s, mail, None, None, OutboxStatus.WOULD_SEND if shadow else OutboxStatus.PENDING)
            self._event(s, "health_alert", "system", data={"condition": condition, "problem": text})

    def acknowledged_lately(self, addresses: list[str], since: dt.datetime) -> set[str]:
        """Which of these addresses (lower-cased) had an acknowledgement queued (or would have) since then:
        the acknowledgement window for a whole fetched batch, in one query."""
        wanted = sorted({a.lower() for a in addresses if a})
        if not wanted:
            return set()
        to = func.lower(OutboxRow.to_address)
        with self._reading() as s:
            return set(s.scalars(select(to).distinct().where(
                OutboxRow.kind == OutboxKind.ACKNOWLEDGEMENT.value, to.in_(wanted), OutboxRow.created_at >= since)))

    # -- the outbox --------------------------------------------------------------------------

    def claim_due(self, at: dt.datetime, limit: int = 100) -> list[OutboxEntry]:
        """Mark up to `limit` due rows as being sent, and return them (a row is claimed once)."""
        with self._session() as s:
            rows = list(s.scalars(
                select(OutboxRow)
                .where(OutboxRow.status == OutboxStatus.PENDING.value, OutboxRow.next_attempt_at <= at)
                .order_by(OutboxRow.kind != OutboxKind.ALERT.value, OutboxRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ))
            for row in rows:
                row.status, row.claimed_at, row.attempts = OutboxStatus.SENDING.value, at, row.attempts + 1
            return [_outbox_entry(r) for r in rows]

    def fail_stale_sends(self, older_than: dt.datetime) -> list[int]:
        """Rows left 'sending' by a crash: the SMTP server may or may not have taken them, so they are
        failed for a person to check (resending blindly could send twice)."""
        with self._session() as s:
            rows = list(s.scalars(select(OutboxRow).where(OutboxRow.status == OutboxStatus.SENDING.value,
                                                          OutboxRow.claimed_at < older_than)))
            for row in rows:
                row.status = OutboxStatus.FAILED.value
                row.last_error = ("interrupted while sending: it may or may not have been delivered; check the Sent "
                                  "folder, then `ehc-triage outbox retry ID` to send it again")
                self._event(s, "send_interrupted", "system", message=row.message_ref, item=row.item_ref,
                            data={"outbox": row.id, "kind": row.kind})
                self._set_item_after_send(s, row, ok=False)
            return [r.id for r in rows]

    def mark_sent(self, outbox_id: int, at: dt.datetime) -> None:
        with self._session() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT.value, at, ""
            self._event(s, f"{row.kind}_sent", "system", message=row.message_ref, item=row.item_ref,
                        data={"outbox": row.id, "to": row.to_address, "attempts": row.attempts,
                              "message_id": row.message_id_header})
            self._set_item_after_send(s, row, ok=True)

    def mark_unsent(self, outbox_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """A failed attempt: retry at `retry_at`, or fail for good when it is None."""
        with self._session() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.last_error = error[:2000]
            if retry_at is None:
                row.status = OutboxStatus.FAILED.value
                self._event(s, f"{row.kind}_failed", "system", message=row.message_ref, item=row.item_ref,
                            data={"outbox": row.id, "attempts": row.attempts, "error": error[:500]})
                self._set_item_after_send(s, row, ok=False)
            else:
                row.status, row.next_attempt_at = OutboxStatus.PENDING.value, retry_at
                self._event(s, "send_retry_scheduled", "system", message=row.message_ref, item=row.item_ref,
                            data={"outbox": row.id, "attempts": row.attempts, "retry_at": retry_at.isoformat(),
                                  "error": error[:500]})

    def hold_outbox(self, outbox_id: int, reason: str, until: dt.datetime) -> None:
        """A claimed row that must not be sent yet: pending again from `until`, the attempt not counted."""
        with self._session() as s:
            row = s.get_one(OutboxRow, outbox_id)
            row.status, row.next_attempt_at = OutboxStatus.PENDING.value, until
            row.attempts, row.last_error = max(0, row.attempts - 1), reason[:2000]
            self._event(s, f"{row.kind}_held", "system", message=row.message_ref, item=row.item_ref,
                        data={"outbox": row.id, "reason": reason[:500], "until": until.isoformat()})

    def retry_outbox(self, outbox_id: int, actor: str) -> None:
        """Put a failed row back in the queue (a person decided to send it again)."""
        with self._session() as s:
            row = s.get(OutboxRow, outbox_id)
            if row is None:
                raise NotFound(f"no outbox row {outbox_id}")
            if row.status != OutboxStatus.FAILED.value:
                raise InvalidAction(f"outbox row {outbox_id} is {row.status}, not failed")
            row.status, row.next_attempt_at, row.attempts = OutboxStatus.PENDING.value, now(), 0
            self._event(s, "send_retry_requested", actor, message=row.message_ref, item=row.item_ref,
                        data={"outbox": row.id})

    def _set_item_after_send(self, s: Session, row: OutboxRow, ok: bool) -> None:
        if row.kind != OutboxKind.REPLY.value or row.item_ref is None:
            return
        item = s.get_one(ItemRow, row.item_ref)
        item.status, item.updated_at = (Status.SENT if ok else Status.FAILED).value, now()

    def list_outbox(self, status: str | None = None) -> list[OutboxEntry]:
        with self._reading() as s:
            query = select(OutboxRow).order_by(OutboxRow.id)
            if status:
                query = query.where(OutboxRow.status == status)
            return [_outbox_entry(r) for r in s.scalars(query)]

    def message_origin(self, message_ref: int) -> MessageOrigin:
        with self._reading() as s:
            m = s.get_one(MessageRow, message_ref)
            return MessageOrigin(m.source, m.folder, m.uidvalidity, m.uid)

    # -- caseworker decisions ----------------------------------------------------------------

    def item_raw(self, item_id: int) -> bytes:
        """The original message's bytes, to thread a reply to it."""
        with self._reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            return s.get_one(MessageRow, item.message_ref).raw

    def approve(self, item_id: int, reply: OutgoingMail, actor: str, shadow: bool = False,
                expected_version: int | None = None, draft_version: int | None = None,
                extra: dict[str, Any] | None = None) -> None:
        """Approve the current draft: record the decision and queue the reply, in one transaction.

        With `expected_version`, refuse (Conflict) when the item changed since the caseworker's form was
        built; with `draft_version`, when the draft is no longer the one the reply was composed from.
        """
        with self._session() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            self.check_version(s, item, expected_version)
            if item.status not in (Status.DRAFTED.value, Status.NEEDS_REVIEW.value):
                raise InvalidAction(f"item {item_id} is {item.status}; only drafted or needs_review items can be approved")
            draft = self._latest_draft(s, item_id)
            if draft_version is not None and draft.version != draft_version:
                raise Conflict(f"item {item_id}'s draft changed while it was being approved; check it and "
                               f"approve again")
            item.status, item.updated_at = Status.APPROVED.value, now()
            self._event(s, "approved", actor, message=item.message_ref, item=item.id,
                        data={"route": item.route, "draft_version": draft.version, "to": reply.to_address,
                              **(extra or {})})
            self._add_outbox(s, reply, item.message_ref, item.id,
                             OutboxStatus.WOULD_SEND if shadow else OutboxStatus.PENDING)

    def _latest_draft(self, s: Session, item_id: int) -> DraftRow:
        return s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id)
                         .order_by(DraftRow.version.desc()).limit(1)).one()

    # -- the queue ---------------------------------------------------------------------------

    def list_queue(self, status: str | None = None, item_id: int | None = None) -> list[QueueEntry]:
        """Queue items, safeguarding first, then needs-review, then oldest first."""
        with self._reading() as s:
            latest = (
                select(DraftRow.item_ref, func.max(DraftRow.version).label("v")).group_by(DraftRow.item_ref).subquery()
            )
            query = (
                select(ItemRow, MessageRow, ClassificationRow, DraftRow)
                .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                .join(ClassificationRow, ClassificationRow.message_ref == MessageRow.id)
                .join(latest, latest.c.item_ref == ItemRow.id)
                .join(DraftRow, (DraftRow.item_ref == ItemRow.id) & (DraftRow.version == latest.c.v))
                .order_by(ItemRow.safeguarding.desc(), ItemRow.needs_review.desc(), MessageRow.received_at, ItemRow.id)
            )
            if status:
                query = query.where(ItemRow.status == status)
            if item_id is not None:
                query = query.where(ItemRow.id == item_id)
            return [_entry(*row) for row in s.execute(query)]

    def get_item(self, item_id: int) -> QueueEntry:
        found = self.list_queue(item_id=item_id)
        if not found:
            raise NotFound(f"no queue item {item_id}")
        return found[0]

    def count(self, what: str) -> int:
        table = {"messages": MessageRow, "items": ItemRow, "events": EventRow, "outbox": OutboxRow}[what]
        with self._reading() as s:
            return s.scalar(select(func.count()).select_from(table)) or 0

    # -- the event log -----------------------------------------------------------------------

    def _event(self, s: Session, name: str, actor: str, message: int | None = None, item: int | None = None,
               data: dict[str, Any] | None = None) -> None:
        """Append an event to the hash chain. The chain's head is read once per transaction (the write
        lock is held until commit, so nobody else can append meanwhile) and then carried along."""
        prev = self._chain_head(s)
        at = now()
        digest = event_digest(at, actor, name, message, item, data or {}, prev)
        # Added in order and inserted in that order at the next flush: ids follow the chain.
        s.add(EventRow(at=at, actor=actor, name=name, message_ref=message, item_ref=item, data=data or {},
                       prev_hash=prev, hash=digest))
        s.info[_CHAIN_HEAD] = digest

    def _chain_head(self, s: Session) -> str:
        """The hash of the chain's last event, read once per transaction and then carried in s.info."""
        prev = s.info.get(_CHAIN_HEAD)
        if prev is None:
            if self.engine.dialect.name == "postgresql":
                # One appender at a time until commit, so two workers never link to the same previous event.
                # (SQLite: every writing transaction already holds the database's write lock, see _session.)
                s.execute(select(func.pg_advisory_xact_lock(_EVENT_CHAIN_LOCK)))
            prev = s.scalar(select(EventRow.hash).order_by(EventRow.id.desc()).limit(1)) or GENESIS_HASH
        return prev

    def event_chain(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Iterator[ChainEvent]:
        """Every event in id order (optionally within a time range), as audit.verify and export need them."""
        with self._reading() as s:
            query = select(EventRow).order_by(EventRow.id).execution_options(yield_per=1000)
            if start is not None:
                query = query.where(EventRow.at >= start)
            if end is not None:
                query = query.where(EventRow.at < end)
            for e in s.scalars(query):
                yield ChainEvent(e.id, e.at, e.actor, e.name, e.message_ref, e.item_ref, e.data, e.prev_hash, e.hash)

    @contextmanager
    def mailbox_lock(self, source: str) -> Iterator[bool]:
        """Yields True when this process may poll `source` now, False when another worker is polling it.

        PostgreSQL: a session advisory lock on a connection held for the poll, released when the poll
        ends or the process dies. SQLite is for one worker, so it always yields True.
        """
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        key = int.from_bytes(hashlib.sha256(f"mailbox\0{source}".encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as connection:
            got = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
            connection.commit()
            try:
                yield got
            finally:
                if got:
                    connection.scalar(select(func.pg_advisory_unlock(key)))
                    connection.commit()

    def record_event(self, name: str, actor: str = "system", data: dict[str, Any] | None = None,
                     message: int | None = None, item: int | None = None) -> None:
        with self._session() as s:
            self._event(s, name, actor, message=message, item=item, data=data)

    def events(self, item: int | None = None) -> list[dict[str, Any]]:
        with self._reading() as s:
            query = select(EventRow).order_by(EventRow.id)
            if item is not None:
                query = query.where(EventRow.item_ref == item)
            return [
                {"id": e.id, "at": e.at, "actor": e.actor, "name": e.name, "message": e.message_ref,
                 "item": e.item_ref, "data": e.data}
                for e in s.scalars(query)
            ]


class DuplicateMessage(Exception):
    """Raised by add_message when the same message is already stored."""


def _outbox_entry(r: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=r.id, kind=r.kind, to_address=r.to_address, subject=r.subject, raw=r.raw, status=r.status,
        attempts=r.attempts, last_error=r.last_error, created_at=r.created_at, sent_at=r.sent_at,
        next_attempt_at=r.next_attempt_at, item_id=r.item_ref, message_ref=r.message_ref,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def _headers_json(p: ParsedMessage) -> dict[str, Any]:
    return {
        "to": list(p.to), "cc": list(p.cc), "reply_to": p.reply_to, "in_reply_to": p.in_reply_to,
        "references": list(p.references),
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in p.attachments],
        "auto": {"auto_submitted": p.auto.auto_submitted, "precedence": p.auto.precedence, "list_id": p.auto.list_id,
                 "list_unsubscribe": p.auto.list_unsubscribe, "delivery_report": p.auto.delivery_report,
                 "robot_sender": p.auto.robot_sender, "null_return_path": p.auto.null_return_path,
                 "autoreply_header": p.auto.autoreply_header},
        "defects": list(p.defects),
        # Where each attachment's text is in messages.attachment_text, and what reading it found.
        "attachment_texts": _attachment_text_index(p),
    }


def _attachment_text(p: ParsedMessage) -> str:
    """The attachments' texts joined, each under its heading line ('--- letter.pdf (PDF, 2 pages) ---')."""
    return "".join(f"{a.heading}\n{a.text}\n\n" for a in p.attachment_texts).rstrip("\n")


def _attachment_text_index(p: ParsedMessage) -> list[dict[str, Any]]:
    index, at = [], 0
    for a in p.attachment_texts:
        start = at + len(a.heading) + 1
        index.append({"filename": a.filename, "kind": a.kind, "pages": a.pages, "truncated": a.truncated,
                      "error": a.error, "start": start, "end": start + len(a.text)})
        at = start + len(a.text) + 2
    return index


def _entry(item: ItemRow, msg: MessageRow, c: ClassificationRow, draft: DraftRow) -> QueueEntry:
    return QueueEntry(
        id=item.id, message_id=msg.message_id, from_address=msg.from_address, from_name=msg.from_name,
        subject=msg.subject, received_at=msg.received_at, label=item.route, confidence=c.confidence,
        needs_review=item.needs_review, safeguarding=item.safeguarding, status=Status(item.status),
        draft_subject=draft.subject, draft_text=draft.body_text, parse_error=msg.parse_error,
        draft_version=draft.version, flags=tuple(item.flags or ()), reference=item.reference,
    )
