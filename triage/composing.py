"""Build outgoing emails (acknowledgements, replies, alerts) as bytes for the outbox. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from replies import Draft

from .domain import OutboxKind, ParsedMessage
from .store import OutgoingMail


def compose(
    kind: OutboxKind,
    draft: Draft,
    to_address: str,
    to_name: str,
    from_address: str,
    from_name: str,
    reply_to: ParsedMessage | None = None,
    now: dt.datetime | None = None,
) -> OutgoingMail:
    """One MIME message (text and HTML alternatives), threaded to `reply_to` when given.

    Acknowledgements carry `Auto-Submitted: auto-replied` (RFC 3834) so that well-behaved
    auto-responders never answer them, which is how mail loops are avoided from our side.
    """
    msg = EmailMessage()
    msg["From"] = Address(display_name=from_name, addr_spec=from_address)
    msg["To"] = Address(display_name=_safe_name(to_name), addr_spec=to_address) if to_name else to_address
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.timezone.utc))
    domain = from_address.rsplit("@", 1)[-1]
    message_id = make_msgid(idstring=kind.value, domain=domain)
    msg["Message-ID"] = message_id
    if reply_to is not None and reply_to.message_id:
        msg["In-Reply-To"] = reply_to.message_id
        msg["References"] = " ".join((*reply_to.references, reply_to.message_id)[-20:])
    if kind is OutboxKind.ACKNOWLEDGEMENT:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    elif kind is OutboxKind.ALERT:
        msg["Auto-Submitted"] = "auto-generated"
        msg["Importance"] = "high"
    msg.set_content(draft.text)
    if draft.html:
        msg.add_alternative(draft.html, subtype="html")
    return OutgoingMail(kind=kind, to_address=to_address, subject=draft.subject, raw=bytes(msg),
                        message_id=message_id)


def _safe_name(name: str) -> str:
    """A display name without line breaks or angle brackets (header injection, spoofed addresses)."""
    return " ".join(name.replace("<", "").replace(">", "").split())[:80]
