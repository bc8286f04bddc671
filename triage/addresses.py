"""Email addresses from untrusted headers: read before any encoded word is decoded, checked, compared.

Who a reply or an acknowledgement reaches is chosen here, once, for intake, approval and the item page:

- The address is taken from the header as it came (`email.utils.getaddresses` on the raw value), and
  only then is the display name decoded (RFC 2047). Decoding first let a display name such as
  `=?utf-8?q?jane=40example.org?=` turn into text the parser took for the address.
- An address is used only if it is one plain mailbox: ASCII, one `@`, a dot-atom local part of at
  most 64 characters, a host name (never an IP literal or bare IP) and at most 254 characters in all,
  no whitespace or control characters. Anything else is refused with a reason a person can act on.
- The reply and the acknowledgement go to the `From` address only. A different `Reply-To` is never
  used: it is shown on the item page as what the sender asked for (triage.web: queue/_recipient.html).
- `normalise` is the form the acknowledgement window compares (case, `+tag`, quotes, Gmail's dots),
  so `victim+1@`, `v.ictim@gmail.com` and `"victim"@` are one person, acknowledged once per window.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from email.header import Header, decode_header, make_header

MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
MAX_ADDRESS = 254  # RFC 5321's 256-octet path, less its angle brackets
MAX_NAME = 200  # a display name longer than this is cut (it is shown, never trusted)

# RFC 5322 dot-atom text: what a local part may hold unquoted.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_GMAIL = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class Mailbox:
    """A display name (decoded, for people to read) and the address it came with (not yet checked)."""

    name: str
    address: str


def first_mailbox(raw: str | Header | None) -> Mailbox:
    """The first mailbox in a raw From or Reply-To header value, as the message carried it.

    The address is parsed from the raw text, before any encoded word is decoded, so no display name
    can pose as it; a quoted local part that needs no quotes ("jane"@) is unquoted. An empty Mailbox
    when the header holds no address at all. The address is not checked here: see `problem`.
    """
    text = _raw_text(raw)
    if not text:
        return Mailbox("", "")
    for name, address in email.utils.getaddresses([text]):
        if "@" in address:
            return Mailbox(_decoded_name(name), _unquoted(address.strip()))
    return Mailbox("", "")


def problem(address: str) -> str:
    """Why mail must not be sent to `address` ('' when it may): the reason, for a person to read."""
    if not address:
        return "there is no address"
    if not address.isascii():
        return ("the address is not plain ASCII (it needs SMTPUTF8, which the service does not send); "
                "reply from a mail client")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in address):
        return "the address holds spaces or control characters"
    if address.count("@") != 1:
        return "the address does not have exactly one @"
    if len(address) > MAX_ADDRESS:
        return f"the address is longer than {MAX_ADDRESS} characters"
    local, domain = address.split("@")
    if not local:
        return "the address has nothing before the @"
    if len(local) > MAX_LOCAL_PART:
        return f"the part before the @ is longer than {MAX_LOCAL_PART} characters"
    if not _LOCAL_PART.fullmatch(local):
        return "the part before the @ holds characters an address cannot carry unquoted"
    if domain.startswith("["):
        return "the address names an IP address, not a mail domain"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return "the part after the @ is not a mail domain"
    if labels[-1].isdigit():
        return "the address names an IP address, not a mail domain"
    return ""


def normalise(address: str) -> str:
    """The address as the acknowledgement window compares it: lower case, quotes and any +tag
    removed from the local part, and for Gmail the dots too (Gmail ignores them)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local:
        return address.strip().lower()
    local = local.strip('"').split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), _GMAIL[0]
    return f"{local}@{domain}"


@dataclass(frozen=True)
class Recipient:
    """Where a reply to a message goes, decided from its From and Reply-To addresses.

    `address` is the From address; `problem` says why nothing may be sent there ('' when it may);
    `asked` is a Reply-To the sender gave that differs from it: shown as a warning, never used.
    """

    address: str
    problem: str = ""
    asked: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def warning(self) -> str:
        """The item page's warning when the sender asked for replies elsewhere ('' when not)."""
        if not self.asked:
            return ""
        return f"The sender asked for replies to {self.asked}; this reply goes to {self.address or 'no one'}."


def reply_recipient(from_address: str, reply_to: str = "") -> Recipient:
    """The recipient of a reply or acknowledgement: the From address, checked; a Reply-To that differs
    (compared as `normalise` does) is kept only to be shown."""
    address = from_address.strip()
    asked = reply_to.strip()
    if asked and address and normalise(asked) == normalise(address):
        asked = ""
    return Recipient(address, problem(address), asked)


def _raw_text(raw: str | Header | None) -> str:
    """The header value as text, encoded words left as they are. Raw 8-bit bytes (which the parser
    keeps as an 'unknown-8bit' Header) are read as UTF-8; such an address is then refused as not ASCII."""
    if raw is None:
        return ""
    if isinstance(raw, Header):
        return "".join(w.decode("utf-8", "replace") if isinstance(w, bytes) else w for w, _ in decode_header(raw))
    return str(raw)


def _decoded_name(name: str) -> str:
    """A display name with its encoded words decoded (leniently: a broken one is left as written)."""
    try:
        decoded = str(make_header(decode_header(name)))
    except Exception:  # a charset Python does not know, or bytes the charset breaks
        decoded = name
    return " ".join(decoded.split())[:MAX_NAME]


def _unquoted(address: str) -> str:
    """"jane"@example.org as jane@example.org, when the quotes hold an ordinary local part."""
    local, at, domain = address.rpartition("@")
    if at and len(local) >= 2 and local[0] == local[-1] == '"' and _LOCAL_PART.fullmatch(local[1:-1]):
        return f"{local[1:-1]}@{domain}"
    return address
