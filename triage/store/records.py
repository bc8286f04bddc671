"""The plain values the Store hands the web app: queue pages, one item in full, user accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..domain import Attachment, AttachmentText, Role, Status

Row = TypeVar("Row")


@dataclass(frozen=True)
class QueueQuery:
    """Which queue items to show, and which page of them.

    `statuses` empty means every status. `claimed_by` is a username; `unclaimed` wins over it.
    `received_before` keeps items received at or before that moment (the age filter); `search`
    matches sender address or name, case reference, subject, message text and the text read from
    its attachments. `today` (England's date) is the day each statutory deadline is judged on
    (triage.domain.deadline_on); None: the one stored when the draft was written.
    """

    statuses: tuple[str, ...] = ()
    route: str | None = None
    claimed_by: str | None = None
    unclaimed: bool = False
    received_before: dt.datetime | None = None
    search: str = ""
    page: int = 1
    per_page: int = 50
    today: dt.date | None = None
    sort: str = "urgency"  # or "deadline": the earliest statutory deadline first (none last)


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
    statutory_deadline: dt.date | None = None


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a longer list (the queue, the event log), with what paging links need."""

    rows: tuple[Row, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


QueuePage = Page[QueueRow]


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
    attachment_texts: tuple[AttachmentText, ...] = ()  # what was read from its PDF, DOCX and text attachments
    reply_to: str = ""  # the Reply-To address the sender gave (shown, never used: triage.addresses)


@dataclass(frozen=True)
class ClassificationView:
    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    terms: tuple[str, ...]  # the evidence: sentences of the message that most support the label
    safeguarding_reasons: tuple[str, ...]
    model_version: str
    safeguarding_evidence: tuple[str, ...] = ()
    runner_up: tuple[str, float] | None = None

    @classmethod
    def from_row(cls, c) -> "ClassificationView":  # noqa: ANN001 - a ClassificationRow
        explanation = c.explanation or {}
        runner_up = explanation.get("runner_up")
        return cls(label=c.label, confidence=c.confidence, needs_review=c.needs_review, safeguarding=c.safeguarding,
                   scores=dict(c.scores or {}), terms=tuple(explanation.get("terms", ())),
                   safeguarding_reasons=tuple(explanation.get("safeguarding", ())), model_version=c.model_version,
                   safeguarding_evidence=tuple(explanation.get("safeguarding_evidence", ())),
                   runner_up=(str(runner_up[0]), float(runner_up[1])) if runner_up else None)


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
    statutory_deadline: dt.date | None = None

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
    session_version: int = 1  # sessions carrying another number have ended (triage.web.security)
