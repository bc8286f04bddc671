"""The connection every Store part shares: the engine, its transactions, and appending to the event chain.

A writing transaction on SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers queue
instead of both reading the chain's last hash and one failing at COMMIT; on PostgreSQL the first
append in a transaction takes an advisory lock held until commit. Either way the chain's head is
read once per transaction and then carried in the session, so events link in the order appended.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..audit import GENESIS_HASH, seal
from ..domain import now as _domain_now
from ..events import Event
from ..private_files import private_sqlite
from .tables import EventRow

# PostgreSQL advisory lock key for appending to the event chain.
_EVENT_CHAIN_LOCK = 0x45484354  # "EHCT"
CHAIN_HEAD = "event_chain_head"  # Session.info key: the hash of the last event this transaction appended

# An event waiting for its place in the chain: (event, actor, message_ref, item_ref).
Pending = tuple[Event, str, "int | None", "int | None"]


def now() -> dt.datetime:
    """The time stamps rows and events get; tests replace triage.store.database.now to fix the clock."""
    return _domain_now()


class Database:
    """The engine and its sessions; every Store part is built with the same one."""

    def __init__(self, url: str) -> None:
        private_sqlite(url)  # the directory, database file, -wal and -shm readable by the service's user only
        self.url = url
        self.engine: Engine = create_engine(url, future=True, hide_parameters=True)  # no message text in logs
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(read_only=True), expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction that may write (on SQLite it holds the write lock from BEGIN)."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: it never waits for a writer."""
        with self._read_sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> dt.datetime:
        """The time rows and events are stamped with (looked up at call time, so tests can fix it)."""
        return now()

    # -- the event chain ------------------------------------------------------------------------

    def append(self, s: Session, event: Event, actor: str, message: int | None = None,
               item: int | None = None) -> None:
        """Append one catalogue event to the hash chain, in this transaction."""
        prev = self.chain_head(s)
        at = self.now()
        data = event.data()
        sealed = seal(at, actor, event.event_name, message, item, data, event.personal_keys(), prev)
        # Added in order and inserted in that order at the next flush: ids follow the chain.
        s.add(EventRow(at=at, actor=actor, name=event.event_name, message_ref=message, item_ref=item, data=data,
                       prev_hash=prev, hash=sealed.hash, hash_version=sealed.hash_version, salt=sealed.salt,
                       digests=sealed.digests))
        s.info[CHAIN_HEAD] = sealed.hash

    def append_all(self, s: Session, pending: Iterable[Pending]) -> None:
        """Link many events to the chain's head in Python, then write them in one statement (ids follow
        the order given, so they follow the chain): intake's bulk path."""
        rows: list[dict[str, Any]] = []
        prev: str | None = None
        for event, actor, message, item in pending:
            if prev is None:
                prev = self.chain_head(s)
            at = self.now()
            data = event.data()
            sealed = seal(at, actor, event.event_name, message, item, data, event.personal_keys(), prev)
            rows.append({"at": at, "actor": actor, "name": event.event_name, "message_ref": message,
                         "item_ref": item, "data": data, "prev_hash": prev, "hash": sealed.hash,
                         "hash_version": sealed.hash_version, "salt": sealed.salt, "digests": sealed.digests})
            prev = sealed.hash
        if rows:
            s.execute(insert(EventRow.__table__), rows)
            s.info[CHAIN_HEAD] = prev

    def chain_head(self, s: Session) -> str:
        """The hash of the chain's last event, read once per transaction and then carried in s.info."""
        prev = s.info.get(CHAIN_HEAD)
        if prev is None:
            if self.dialect == "postgresql":
                # One appender at a time until commit, so two workers never link to the same previous event.
                # (SQLite: every writing transaction already holds the database's write lock, see writing.)
                s.execute(select(func.pg_advisory_xact_lock(_EVENT_CHAIN_LOCK)))
            prev = s.scalar(select(EventRow.hash).order_by(EventRow.id.desc()).limit(1)) or GENESIS_HASH
        return prev


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
