"""What intake hands the store for one message, and the identities the store gives back."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .outbox import OutboxStatus, OutgoingMail
from .values import Classification, DraftText, FetchedMail, ParsedMessage

if TYPE_CHECKING:
    from ..events import Event


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def deadline_on(today: dt.date | None, statutory: dt.date | None, appeal: dt.date | None,
                adviser_until: dt.date | None) -> dt.date | None:
    """The statutory deadline to act on, judged on `today` (replies.deadline_rules.Deadlines.to_act_on):
    the mediation adviser's date while the adviser's two months run, then the appeal's (the last chance,
    even once it has passed). `today` None: not judged, the stored one. The store's queue sorts by the
    same rule in SQL (item_views)."""
    if today is not None and adviser_until is not None and appeal is not None and today > adviser_until:
        return appeal
    return statutory


def dedupe_key(parsed_message_id: str, raw: bytes) -> str:
    """Identity of a message across folders and UIDVALIDITY changes: Message-ID plus content hash."""
    content = hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(f"{parsed_message_id}\0{content}".encode()).hexdigest()


@dataclass(frozen=True)
class MessageOrigin:
    """Where a stored message came from, to mark it answered on the server."""

    source: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class NewMessage:
    """Everything intake learned about one message, stored in one transaction.

    `events` are the catalogue events (triage.events) intake adds after the ones every stored
    message gets (received, parsed, classified, drafted, the outbox rows', queued).
    """

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
    appeal_deadline: dt.date | None = None  # ... and what it becomes once the adviser's two months are over
    adviser_until: dt.date | None = None  # the last day of the adviser's two months (None: no adviser step)
    outgoing: tuple[OutgoingMail, ...] = ()
    outbox_status: OutboxStatus = OutboxStatus.PENDING
    events: tuple[Event, ...] = ()
