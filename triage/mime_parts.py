"""A MIME message's leaf parts: its text and HTML bodies decoded, and its attachments with their bytes.
Never raises: an unreadable name, payload or charset is read as well as it can be.
"""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message

from .domain import Attachment


def walk_parts(msg: Message) -> tuple[list[str], list[str], list[tuple[Attachment, bytes]], bool]:
    """(text bodies, HTML bodies, (attachment, its bytes) pairs, whether a part is a delivery status report)."""
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[tuple[Attachment, bytes]] = []
    delivery_report = False
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            delivery_report = True
        if part.is_multipart() or ctype == "message/rfc822":
            continue
        filename = _filename(part)
        disposition = str(part.get("content-disposition") or "").split(";")[0].strip().lower()
        payload = _payload(part)
        if filename or disposition == "attachment" or not ctype.startswith("text/"):
            if part is msg and ctype.startswith("text/"):
                pass  # a single-part message whose only part is its text
            else:
                attachments.append((Attachment(filename or "(unnamed)", ctype, len(payload)), payload))
                continue
        decoded = _decode(payload, part.get_content_charset())
        if ctype == "text/html":
            htmls.append(decoded)
        elif ctype in ("text/plain", "text/enriched", "text/rfc822-headers") or ctype == "text":
            if ctype == "text/rfc822-headers":
                continue
            texts.append(decoded)
    return texts, htmls, attachments, delivery_report


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        return "(unreadable name)"
    if not name:
        return ""
    try:
        name = str(make_header(decode_header(name)))
    except Exception:
        pass
    return " ".join(name.split())[:255]


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    return data


def _decode(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")
