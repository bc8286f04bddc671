"""The plain values that travel between the pipeline's stages: mail as fetched and parsed, verdicts, drafts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """Where a queue item is in its life."""

    RECEIVED = "received"
    NEEDS_REVIEW = "needs_review"
    DRAFTED = "drafted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    FAILED = "failed"
    HANDLED_ELSEWHERE = "handled_elsewhere"  # a caseworker dealt with it outside this service


# Items a caseworker can still act on (edit, change route, approve, reject, mark handled elsewhere).
OPEN_STATUSES = (Status.NEEDS_REVIEW, Status.DRAFTED)


class Role(str, Enum):
    """What a web app user may do: caseworkers work the queue, supervisors also see the supervisor pages,
    admins also manage accounts."""

    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    def at_least(self, other: "Role") -> bool:
        order = (Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class FetchedMail:
    """One message as the mailbox handed it over, before any parsing."""

    source: str
    folder: str
    uidvalidity: int
    uid: int
    raw: bytes
    internal_date: dt.datetime | None = None
    # The message's whole size in bytes when the source fetched only its head (it was over [service]
    # max_message_bytes, so raw is its first 64 KB); None when raw is the whole message.
    size: int | None = None

    @property
    def truncated(self) -> bool:
        """Whether raw is only the head of a larger message."""
        return self.size is not None and self.size > len(self.raw)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class AttachmentText:
    """The text read from one attachment (triage.attachment_text.extract_text).

    kind is 'pdf', 'docx' or 'text' ('' for a file that is none of these, which is not read);
    error says why the text is missing or partial ('encrypted', over a limit, broken file, too slow);
    truncated is set when a page, character or time limit cut the text short.
    """

    filename: str
    kind: str
    text: str = ""
    truncated: bool = False
    error: str = ""
    pages: int = 0  # PDF pages in the file (0 when unknown, or not a PDF)

    @property
    def heading(self) -> str:
        """The line that introduces it in stored text: '--- letter.pdf (PDF, 2 pages) ---'."""
        what = self.kind.upper() or "file"
        if self.pages:
            what += f", {self.pages} page" + ("s" if self.pages != 1 else "")
        if self.truncated:
            what += ", cut short"
        if self.error:
            what += f", not read: {self.error}" if not self.text else f", {self.error}"
        return f"--- {self.filename} ({what}) ---"


@dataclass(frozen=True)
class AutoMarkers:
    """Signs that a message was sent by a machine (RFC 3834 and friends)."""

    auto_submitted: str = ""
    precedence: str = ""
    list_id: str = ""
    list_unsubscribe: bool = False
    delivery_report: bool = False
    robot_sender: bool = False
    null_return_path: bool = False
    autoreply_header: bool = False

    @property
    def is_automatic(self) -> bool:
        return bool(
            (self.auto_submitted and self.auto_submitted.lower() != "no")
            or self.precedence.lower() in {"bulk", "list", "junk"}
            or self.list_id
            or self.list_unsubscribe
            or self.delivery_report
            or self.robot_sender
            or self.null_return_path
            or self.autoreply_header
        )


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the service uses from one email; built by parsing.parse_message."""

    message_id: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str
    subject: str
    date: dt.datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    auto: AutoMarkers
    defects: tuple[str, ...] = ()
    error: str = ""
    # Text read from the PDF, DOCX and plain-text attachments, in the order of `attachments`.
    attachment_texts: tuple[AttachmentText, ...] = ()
    # Each attachment's decoded bytes, in the order of `attachments`: the store keeps them at intake so a
    # download never parses the message again (triage.store.attachments). Left out of repr and ==.
    attachment_data: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def attachments_text(self) -> str:
        """The attachments' texts, one after another ('' when none had any)."""
        return "\n\n".join(a.text for a in self.attachment_texts if a.text)


@dataclass(frozen=True)
class Classification:
    """The classifier's verdict on one message, as stored."""

    label: str
    confidence: float
    needs_review: bool
    safeguarding: bool
    scores: dict[str, float]
    model_version: str
    explanation: tuple[str, ...] = ()  # the sentences that most support the label
    safeguarding_reasons: tuple[str, ...] = ()  # names of what raised the flag: safe to put in an alert
    threshold: float | None = None  # the model's abstain threshold: below it, needs_review
    safeguarding_evidence: tuple[str, ...] = ()  # the writer's sentences that raised the flag: never in alerts
    runner_up: tuple[str, float] | None = None  # the second route and its probability, when the call was close


@dataclass(frozen=True)
class DraftText:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class QueueEntry:
    """One row of the caseworkers' queue, as the CLI and web show it."""

    id: int
    message_id: str
    from_address: str
    from_name: str
    subject: str
    received_at: dt.datetime
    route: str  # the item's route now (the classifier's label, or the one a caseworker chose)
    confidence: float
    needs_review: bool
    safeguarding: bool
    status: Status
    draft_subject: str
    draft_text: str
    parse_error: str = ""
    draft_version: int = 0
    flags: tuple[str, ...] = ()
    reference: str = ""


@dataclass(frozen=True)
class PollReport:
    """What one poll did, for logs and the CLI."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    queued: int = 0
    recorded_only: int = 0
    failed_parse: int = 0
    marked: int = 0
    item_ids: tuple[int, ...] = field(default=())
    skipped: bool = False  # another worker was polling this mailbox
