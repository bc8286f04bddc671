"""The service's vocabulary, declared once: the values that travel between stages, the statuses and
kinds, and the records intake hands the store. `from triage.domain import X` for any of them."""

from .outbox import OutboxEntry, OutboxKind, OutboxStatus, OutgoingMail, SendOutcome
from .stored import MessageOrigin, NewMessage, deadline_on, dedupe_key, now
from .values import (
    OPEN_STATUSES,
    Attachment,
    AttachmentText,
    AutoMarkers,
    Classification,
    DraftText,
    FetchedMail,
    ParsedMessage,
    PollReport,
    QueueEntry,
    Role,
    Status,
)

__all__ = [
    "OPEN_STATUSES", "Attachment", "AttachmentText", "AutoMarkers", "Classification", "DraftText", "FetchedMail",
    "MessageOrigin", "NewMessage", "OutboxEntry", "OutboxKind", "OutboxStatus", "OutgoingMail", "ParsedMessage",
    "PollReport", "QueueEntry", "Role", "SendOutcome", "Status", "deadline_on", "dedupe_key", "now",
]
