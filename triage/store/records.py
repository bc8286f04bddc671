"""The plain values the Store hands the web app: queue pages, one item in full, user accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..domain import Attachment, Role, Status


@dataclass(frozen=True)
class QueueQuery:
    """Which queue items to show, and which page of them.

    `statuses` empty means every status. `claimed_by` is a username; `unclaimed` wins over it.
    `received_before` keeps items received at or before that moment (the age filter); `search`
    matches sender address or name, case reference, subject and message text.
    """

    statuses: tuple[str, ...] = ()
    route: str | None = None
    claimed_by: str | None = None
    unclaimed: bool = False
    received_before: dt.datetime | None = None
    search: str = ""
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue page."""

    id: int
    reference: str
    status: Status
    route: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    flags: tuple[str, ...]
    due_at: dt.datetime | None
    received_at: dt.datetime
    from_name: str
    from_address: str
    subject: str
    claimed_by: str | None
    broken: bool


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class MessageView:
    """The incoming message as stored: untrusted text, shown escaped or sanitised."""

    message_id: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    received_at: dt.datetime
    sent_at: dt.datetime | None
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    parse_error: str


@dataclass(frozen=True)
class ClassificationView:
    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    terms: tuple[str, ...]
    safeguarding_reasons: tuple[str, ...]
    model_version: str


@dataclass(frozen=True)
class DraftVersion:
    version: int
    route: str
    subject: str
    text: str
    html: str
    author: str
    created_at: dt.datetime
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemDetail:
    """Everything the item page shows; `version` goes in every form, to detect a concurrent change."""

    id: int
    reference: str
    status: Status
    route: str
    needs_review: bool
    safeguarding: bool
    flags: tuple[str, ...]
    due_at: dt.datetime | None
    claimed_by: str | None
    version: int
    message: MessageView
    classification: ClassificationView | None
    drafts: tuple[DraftVersion, ...]
    events: tuple[dict[str, Any], ...]

    @property
    def draft(self) -> DraftVersion:
        return self.drafts[-1]


@dataclass(frozen=True)
class User:
    """A web app account. The password hash never leaves the Store except to be checked."""

    id: int
    username: str
    role: Role
    active: bool
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None
    password_hash: str = field(default="", repr=False)
