"""Plain values passed between the decision functions and the store's one-transaction approval."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .outbox import OutgoingMail
from .values import Status


class SafeguardingAction(str, Enum):
    """What a caseworker did about a safeguarding-flagged message (recorded before any reply is approved)."""

    REFERRAL_MADE = "referral_made"
    ALREADY_KNOWN = "already_known"
    NOT_SAFEGUARDING = "not_safeguarding"

    @property
    def label(self) -> str:
        return {"referral_made": "Referral made", "already_known": "Already known to children's services",
                "not_safeguarding": "Not a safeguarding matter"}[self.value]


# What store.items keeps in items.safeguarding_action once the flag was cleared as false.
FLAG_CLEARED = "flag_cleared"


@dataclass(frozen=True)
class ReplySource:
    """Everything a reply is composed from, as the store holds it, read inside the approval's transaction.

    The message's addresses, Message-ID and References were stored at intake: approving never parses
    the original message again.
    """

    item_id: int
    status: Status
    route: str
    safeguarding: bool
    safeguarding_action: str  # "" until a caseworker records one (SafeguardingAction or FLAG_CLEARED)
    draft_version: int
    subject: str
    text: str
    html: str
    meta: dict[str, Any]
    from_address: str
    from_name: str
    message_id: str
    references: tuple[str, ...]
    purged: bool = False


@dataclass(frozen=True)
class Approval:
    """The reply to queue, and the stale deadlines the approver confirmed (kept in the `approved` event)."""

    reply: OutgoingMail
    deadlines_confirmed: Any = None
