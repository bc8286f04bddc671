"""The tamper-evident event log: how an event is hashed, how the chain is verified, how it is exported.

Each event stores the hash of the event before it and the SHA-256 of its own canonical content
(time, actor, name, message, item, data and that previous hash). Editing an event changes its
hash; deleting or reordering events breaks the link to the previous hash; so verify() names the
first event that no longer fits. Pure functions: the Store reads and writes the rows.

Hash versions (events.hash_version), so personal text can be deleted and the chain still verify:

- Version 1 (every event written before migration 0009): the hash covers the whole `data`.
  These events keep verifying exactly as before; nothing rewrites them.
- Version 2 (every event since): the event's personal fields (its catalogue class's `personal`,
  triage.events) are taken out of the hashed data. Instead each is hashed as a salted digest,
  digest = SHA-256(salt NUL key NUL canonical JSON of the value), with a random salt per event
  (events.salt, 32 hex characters); the digests are stored (events.digests, key -> digest) and
  the hash covers `{"v": 2, ..., "data": <data without the personal keys>, "digests": <digests>}`.
  verify() recomputes that hash, and while the salt is there it also checks each personal value
  against its digest, so editing personal text is still caught.
- Erasure and retention (triage.privacy) delete personal text with `erase(data, digests)`: every
  personal key's value becomes ERASED and the event's salt is set to NULL, in one transaction.
  The hash and digests are untouched, so `ehc-triage audit verify` still passes; without the salt
  the digests cannot be matched against guessed names or addresses. An event whose salt is NULL
  has its personal values no longer checked (they are gone); everything else still is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

from classifier.labels import Route

from .domain import Status

GENESIS_HASH = "0" * 64
HASH_VERSION = 2  # what new events are hashed with (see above)
ERASED = "[erased]"  # a personal value deleted by retention or erasure

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
    hash_version: int = 1
    salt: str | None = None
    digests: dict[str, str] | None = None


@dataclass(frozen=True)
class Sealed:
    """What to store for a new event: its hash, and (version 2) the salt and personal fields' digests."""

    hash: str
    salt: str | None
    digests: dict[str, str]
    hash_version: int = HASH_VERSION


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


def field_digest(salt: str, key: str, value: Any) -> str:
    """The salted digest of one personal field's value."""
    return hashlib.sha256(f"{salt}\0{key}\0{_canonical(value)}".encode()).hexdigest()


def seal(at: dt.datetime, actor: str, name: str, message: int | None, item: int | None, data: dict[str, Any],
         personal: Iterable[str], prev: str) -> Sealed:
    """Hash a new event (version 2): its personal fields (those of `personal` present in data) as digests."""
    salt = secrets.token_hex(16)
    digests = {key: field_digest(salt, key, data[key]) for key in personal if key in data}
    return Sealed(_digest_v2(at, actor, name, message, item, data, digests, prev), salt, digests)


def _digest_v2(at: dt.datetime, actor: str, name: str, message: int | None, item: int | None,
               data: dict[str, Any], digests: dict[str, str], prev: str) -> str:
    body = {"v": 2, "at": at.astimezone(dt.timezone.utc).isoformat(), "actor": actor, "name": name,
            "message": message, "item": item, "data": {k: v for k, v in data.items() if k not in digests},
            "digests": digests, "prev": prev}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def erase(data: dict[str, Any], digests: dict[str, str] | None) -> dict[str, Any]:
    """An event's data with its personal values deleted (set the event's salt to NULL with it)."""
    return {k: (ERASED if k in (digests or {}) else v) for k, v in data.items()}


def _content_ok(event: ChainEvent) -> bool:
    if event.hash_version == 1:
        return event_digest(event.at, event.actor, event.name, event.message, event.item, event.data,
                            event.prev_hash) == event.hash
    digests = event.digests or {}
    if _digest_v2(event.at, event.actor, event.name, event.message, event.item, event.data, digests,
                  event.prev_hash) != event.hash:
        return False
    if event.salt is None:  # erased: the personal text is gone, only its digests remain
        return True
    return all(key in event.data and field_digest(event.salt, key, event.data[key]) == digest
               for key, digest in digests.items())


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
        if not _content_ok(event):
            return Verification(False, checked, event.id, "its content does not match its hash (it was edited)")
        previous = event.hash
    return Verification(True, checked)


# Values kept even under a personal key: a route change's or a status change's from/to are labels.
LABELS = frozenset({*(r.value for r in Route), *(s.value for s in Status)})


def redact(data: dict[str, Any], personal: Iterable[str] = ()) -> dict[str, Any]:
    """Event data without names, addresses or message text (recursively); route and status labels stay.

    `personal` are the keys the event's catalogue class declared personal (its digests' keys, from hash
    version 2): always redacted, as well as every key that looks personal (PERSONAL_KEYS)."""
    declared = set(personal)
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in declared or (key.lower() in PERSONAL_KEYS and not (isinstance(value, str) and value in LABELS)):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = redact(value)
        else:
            clean[key] = value
    return clean
