"""Shared by the privacy tests: a web app site whose database clock a test sets, items stored as intake
would, and items closed the three ways (reply sent, rejected, handled elsewhere)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from triage.service import approve_item, send_outbox
from triage.store import Store

from .webapp import add_item

UTC = dt.timezone.utc


class FixedClock:
    """What triage.store.database.now returns: set by the test, never the wall clock."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def fix_clock(monkeypatch, at: dt.datetime) -> FixedClock:
    from triage.store import database

    clock = FixedClock(at)
    monkeypatch.setattr(database, "now", clock)
    return clock


def store_item(store: Store, routes: Path, received: dt.datetime, **email: object) -> int:
    return add_item(store, routes_file=routes, received=received, today=received.date(), **email)


def send_reply(settings, store: Store, item: int) -> None:
    approve_item(settings, store, item, "casey", confirm_deadlines=True, today=dt.date(2026, 11, 2))
    report = send_outbox(settings, store)
    assert report.sent >= 1, report


def database_bytes(store: Store) -> bytes:
    """The SQLite database file and its -wal and -shm files, byte for byte, after a checkpoint."""
    path = Path(store.url.removeprefix("sqlite:///"))
    c = sqlite3.connect(path)
    try:
        c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        c.close()
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"),
                                               path.with_name(path.name + "-shm")) if p.exists())
