"""The tamper-evident event log: how an event is hashed, how the chain is verified, how it is exported.

Each event stores the hash of the event before it and the SHA-256 of its own canonical content
(time, actor, name, message, item, data and that previous hash). Editing an event changes its
hash; deleting or reordering events breaks the link to the previous hash; so verify() names the
first event that no longer fits. Pure functions: the Store reads and writes the rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, Iterable

from .domain import Status

GENESIS_HASH = "0" * 64

# Keys in event data that can hold personal data; --redact drops them. IDs, labels and times stay.
PERSONAL_KEYS = frozenset({
    "to", "from", "from_name", "sender", "subject", "message_id", "text", "diff", "draft", "reason", "error",
    "name", "username", "address", "email", "body", "comment", "note",
})


@dataclass(frozen=True)
class ChainEvent:
    """One stored event, as verify() and export need it."""

    id: int
    at: dt.datetime
    actor: str
    name: str
    message: int | None
    item: int | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""


def event_digest(at: dt.datetime, actor: str, name: str, message: int | None, item: int | None,
                 data: dict[str, Any], prev: str) -> str:
    """SHA-256 of an event's canonical JSON (sorted keys, UTC ISO time)."""
    body = {"at": at.astimezone(dt.timezone.utc).isoformat(), "actor": actor, "name": name, "message": message,
            "item": item, "data": data, "prev": prev}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def verify(events: Iterable[ChainEvent]) -> Verification:
    """Check every event in id order; the first one whose content or link is wrong is named."""
    previous = GENESIS_HASH
    checked = 0
    for event in events:
        checked += 1
        if event.prev_hash != previous:
            return Verification(False, checked, event.id,
                                "its link to the previous event is broken (an event before it was deleted, "
                                "inserted or reordered)")
        if event_digest(event.at, event.actor, event.name, event.message, event.item, event.data,
                        event.prev_hash) != event.hash:
            return Verification(False, checked, event.id, "its content does not match its hash (it was edited)")
        previous = event.hash
    return Verification(True, checked)


# Values kept even under a personal key: a route change's or a status change's from/to are labels.
LABELS = frozenset({"disagreement_resolution", "mediation", "tribunal", "other", *(s.value for s in Status)})


def redact(data: dict[str, Any]) -> dict[str, Any]:
    """Event data without names, addresses or message text (recursively); route and status labels stay."""
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key.lower() in PERSONAL_KEYS and not (isinstance(value, str) and value in LABELS):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = redact(value)
        else:
            clean[key] = value
    return clean


def export_rows(events: Iterable[ChainEvent], redacted: bool) -> Iterable[dict[str, Any]]:
    for e in events:
        yield {
            "id": e.id, "at": e.at.isoformat(), "actor": "[redacted]" if redacted and e.actor not in ("system",) else e.actor,
            "name": e.name, "message": e.message, "item": e.item,
            "data": redact(e.data) if redacted else e.data, "prev_hash": e.prev_hash, "hash": e.hash,
        }


def to_jsonl(rows: Iterable[dict[str, Any]]) -> Iterable[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


def to_csv(rows: Iterable[dict[str, Any]]) -> Iterable[str]:
    fields = ["id", "at", "actor", "name", "message", "item", "data", "prev_hash", "hash"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({**row, "data": json.dumps(row["data"], ensure_ascii=False, sort_keys=True)})
        yield buffer.getvalue()
