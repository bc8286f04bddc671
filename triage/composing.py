"""Build outgoing emails (acknowledgements, replies, alerts) as bytes for the outbox. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid
from typing import Protocol, Sequence

from replies import Draft

from .addresses import problem
from .domain import OutboxKind, OutgoingMail
from .errors import InvalidAction
from .mime_writing import message_bytes


class Answered(Protocol):
    """What a reply is threaded to: a ParsedMessage, or the Message-ID and References the store kept."""

    @property
    def message_id(self) -> str: ...

    @property
    def references(self) -> Sequence[str]: ...


def compose(
    kind: OutboxKind,
    draft: Draft,
    to_address: str,
    to_name: str,
    from_address: str,
    from_name: str,
    reply_to: Answered | None = None,
    now: dt.datetime | None = None,
) -> OutgoingMail:
    """One MIME message (text and HTML alternatives), threaded to `reply_to` when given, in the bytes
    email.message.EmailMessage with policy.default writes (triage.mime_writing writes them directly).

    Acknowledgements carry `Auto-Submitted: auto-replied` (RFC 3834) so that well-behaved
    auto-responders never answer them, which is how mail loops are avoided from our side.

    Mail to a sender (a reply or an acknowledgement) is refused with InvalidAction when its address
    cannot be written to (triage.addresses.problem), or when the message it answers has a Message-ID
    no header can carry (line breaks, control characters): a clear refusal, never a crash later.
    """
    if kind in (OutboxKind.REPLY, OutboxKind.ACKNOWLEDGEMENT):
        unusable = problem(to_address)
        if unusable:
            raise InvalidAction(f"cannot write to {to_address!r}: {unusable}")
    threaded = reply_to is not None and bool(reply_to.message_id)
    if threaded and not _header_safe(reply_to.message_id):
        raise InvalidAction("the message's Message-ID holds line breaks or control characters, so no reply can "
                            "be threaded to it; reply from a mail client and mark the item handled elsewhere")
    domain = from_address.rsplit("@", 1)[-1]
    message_id = make_msgid(idstring=kind.value, domain=domain)
    sender = Address(display_name=from_name, addr_spec=from_address)
    to = Address(display_name=_safe_name(to_name), addr_spec=to_address) if to_name else to_address
    headers: list[tuple[str, str | Address]] = [
        ("From", sender), ("To", to),
        ("Subject", draft.subject), ("Date", format_datetime(now or dt.datetime.now(dt.timezone.utc))),
        ("Message-ID", message_id),
    ]
    if threaded:
        references = [r for r in reply_to.references if _header_safe(r)]
        headers += [("In-Reply-To", reply_to.message_id),
                    ("References", " ".join((*references, reply_to.message_id)[-20:]))]
    if kind is OutboxKind.ACKNOWLEDGEMENT:
        headers += [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    elif kind is OutboxKind.ALERT:
        headers += [("Auto-Submitted", "auto-generated"), ("Importance", "high")]
    # Written directly (triage.mime_writing): the bytes EmailMessage would write, at a tenth of its cost.
    return OutgoingMail(kind=kind, to_address=to_address, subject=draft.subject,
                        raw=message_bytes(headers, draft.text, draft.html), message_id=message_id)


def _header_safe(value: str) -> bool:
    """Whether a message ID can go in a header as it is: printable ASCII (no line breaks), not too long."""
    return 0 < len(value) <= 900 and value.isascii() and value.isprintable()


def _safe_name(name: str) -> str:
    """A display name without line breaks or angle brackets (header injection, spoofed addresses)."""
    return " ".join(name.replace("<", "").replace(">", "").split())[:80]
