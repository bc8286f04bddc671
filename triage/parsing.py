"""bytes -> ParsedMessage. Pure, no I/O, and never raises: a broken message comes back with .error set.

The header fields are read in triage.message_headers, the MIME parts walked in triage.mime_parts and
attachments' text read in triage.attachment_text; this module puts them together within the bounds of
triage.message_bounds.
"""

from __future__ import annotations

import dataclasses
import email
import time

from classifier.text import Document, clean, html_to_text, new_text, prepare_document

from .addresses import first_mailbox
from .attachment_text import AttachmentLimits, attachment_kind, extract_text
from .domain import Attachment, AttachmentText, AutoMarkers, ParsedMessage
from .message_bounds import HEAD_BYTES, MAX_LINES, POLICY, header_block_end, oversized, unread_reason
from .message_headers import DATE_OUT_OF_RANGE, addresses, auto_markers, date_out_of_range, header, header_date
from .mime_parts import walk_parts

__all__ = ["DATE_OUT_OF_RANGE", "HEAD_BYTES", "MAX_LINES", "MAX_TEXT_CHARS", "attachment_payloads",
           "classifiable_document", "classifiable_text", "oversized", "parse_message"]

MAX_TEXT_CHARS = 200_000
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Defects that mean the structure is lost, so the text we found may be wrong or missing.
_FATAL_DEFECTS = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect"}


def parse_message(raw: bytes, attachment_limits: AttachmentLimits | None = AttachmentLimits(),
                  max_bytes: int | None = None, size: int | None = None) -> ParsedMessage:
    """Parse raw RFC 5322 bytes into a ParsedMessage; errors are reported in .error, never raised.

    The text of PDF, DOCX and plain-text attachments is read within `attachment_limits` (None: not read).
    A message over `max_bytes` (None: no limit), or over the other bounds of triage.message_bounds, is not
    read at all: only its headers, from its first HEAD_BYTES, with .error saying why, so that it is
    stored as a stub for review and never dropped. `size` is the message's whole size when raw is only
    its head (FetchedMail.size: the source fetched no more of a message over the limit).
    """
    try:
        unread = unread_reason(raw, max_bytes, size)  # too big, too many lines or too many headers (message_bounds)
        if unread:
            return _without_nul(_stub(raw, unread))
        return _without_nul(_parse(raw, attachment_limits))
    except Exception as exc:  # the last line of defence: store and flag, never drop
        return _broken(f"{type(exc).__name__}: {exc}")


def _stub(raw: bytes, why: str) -> ParsedMessage:
    """A message too big to read: its headers (read from its first HEAD_BYTES), no text, and why."""
    head = raw[:HEAD_BYTES]
    parsed = _parse(head[:header_block_end(head)] + b"\r\n", None)  # the header block alone: no body
    return dataclasses.replace(parsed, text="", html="", attachments=(), defects=(), attachment_texts=(),
                               attachment_data=(), error=f"{why}: not read; open it in the mail client")


def classifiable_text(parsed: ParsedMessage) -> str:
    """The body to give prepare_document(parsed.subject, ...): the message's new text, then its
    attachments' text. The body is reduced to its new text first because prepare_document keeps only
    the text before a signature or quoted reply ("Sent from my iPhone", "On ... wrote:"), and a letter
    appended after one would be cut off with it. With no attachment text it is parsed.text unchanged.
    Training uses it (classifier.corpus) so the model learns from what it is asked about in service.
    """
    extra = parsed.attachments_text
    if not extra:
        return parsed.text
    return f"{new_text(parsed.subject, parsed.text)}\n\n{extra}"


def classifiable_document(parsed: ParsedMessage) -> Document:
    """What the classifier reads for a message: prepare_document on classifiable_text(), with the
    whole body (quotes and forwards too) and the attachments as the safeguarding detector's full_text."""
    if not parsed.attachments_text:
        return prepare_document(parsed.subject, parsed.text)
    document = prepare_document(parsed.subject, classifiable_text(parsed))
    full_text = prepare_document(parsed.subject, parsed.text).full_text
    return dataclasses.replace(document, full_text=f"{full_text}\n{clean(parsed.attachments_text)}")


def _without_nul(parsed: ParsedMessage) -> ParsedMessage:
    """NUL characters removed from every text: PostgreSQL's text columns refuse them, and a message
    the database refuses would stop each poll at it. (The raw bytes are kept as they came.)"""
    changes = {}
    for f in dataclasses.fields(parsed):
        value = getattr(parsed, f.name)
        if isinstance(value, str) and "\x00" in value:
            changes[f.name] = value.replace("\x00", "")
        elif isinstance(value, tuple) and any(isinstance(v, str) and "\x00" in v for v in value):
            changes[f.name] = tuple(v.replace("\x00", "") if isinstance(v, str) else v for v in value)
    attachments = tuple(dataclasses.replace(a, filename=a.filename.replace("\x00", ""),
                                            content_type=a.content_type.replace("\x00", ""))
                        for a in parsed.attachments)
    return dataclasses.replace(parsed, attachments=attachments, **changes)


def _broken(error: str) -> ParsedMessage:
    return ParsedMessage(
        message_id="", from_name="", from_address="", to=(), cc=(), reply_to="", subject="",
        date=None, in_reply_to="", references=(), text="", html="", attachments=(),
        auto=AutoMarkers(), error=error,
    )


def _parse(raw: bytes, attachment_limits: AttachmentLimits | None) -> ParsedMessage:
    if raw.startswith(_OLE2_MAGIC):
        return _broken("not an email: an Outlook .msg (OLE2) file, which must be saved as .eml to be read")
    msg = email.message_from_bytes(raw, policy=POLICY)
    if not msg.keys():
        return _broken("not an email: the message has no headers")

    # The addresses are read from the raw headers, before encoded words are decoded (triage.addresses).
    sender = first_mailbox(msg.get("from"))
    from_name, from_address = sender.name, sender.address.lower()
    reply_to = first_mailbox(msg.get("reply-to")).address.lower()
    text_parts, html_parts, parts, delivery_report = walk_parts(msg)
    attachments = [a for a, _ in parts]
    text = "\n\n".join(p for p in text_parts if p.strip())
    html = "\n".join(html_parts)
    if not text.strip() and html:
        text = html_to_text(html)

    defects = tuple(sorted({type(d).__name__ for part in msg.walk() for d in part.defects}))
    error = ""
    if _FATAL_DEFECTS & set(defects) and not text.strip():
        error = "the MIME structure is broken and no text could be recovered (" + ", ".join(defects) + ")"

    ctype = msg.get_content_type()
    delivery_report = delivery_report or ctype == "multipart/report"
    auto = auto_markers(msg, from_address, delivery_report)
    return ParsedMessage(
        message_id=header(msg, "message-id").strip(),
        from_name=from_name,
        from_address=from_address,
        to=addresses(header(msg, "to")),
        cc=addresses(header(msg, "cc")),
        reply_to=reply_to,
        subject=" ".join(header(msg, "subject").split()),
        date=header_date(header(msg, "date")),
        in_reply_to=header(msg, "in-reply-to").strip(),
        references=tuple(header(msg, "references").split()),
        text=text[:MAX_TEXT_CHARS],
        html=html[:MAX_TEXT_CHARS],
        attachments=tuple(attachments),
        auto=auto,
        defects=(*defects, DATE_OUT_OF_RANGE) if date_out_of_range(header(msg, "date")) else defects,
        error=error,
        attachment_texts=_attachment_texts(parts, attachment_limits) if attachment_limits else (),
        attachment_data=tuple(payload for _, payload in parts),
    )


def _attachment_texts(parts: list[tuple[Attachment, bytes]], limits: AttachmentLimits) -> tuple[AttachmentText, ...]:
    """The text of each PDF, DOCX and plain-text attachment (others are skipped), within the message's
    limits on attachments read, characters kept and time spent."""
    texts: list[AttachmentText] = []
    started = time.monotonic()
    chars = readable = 0
    for attachment, payload in parts:
        name = attachment.filename.replace("\x00", "")
        try:
            kind = attachment_kind(name, attachment.content_type, payload)
        except Exception:
            kind = ""
        if not kind:
            continue
        chars_left = limits.max_message_chars - chars
        seconds_left = limits.message_seconds - (time.monotonic() - started)
        readable += 1
        if readable > limits.max_attachments:
            texts.append(AttachmentText(name, kind, error=f"not read: only the first {limits.max_attachments} "
                                                          f"attachments of a message are read"))
        elif chars_left <= 0:
            texts.append(AttachmentText(name, kind, truncated=True, error=f"not read: the message's attachments "
                                        f"already gave the {limits.max_message_chars:,} characters kept"))
        elif seconds_left <= 0:
            texts.append(AttachmentText(name, kind, error=f"not read: the {limits.message_seconds:g} s for reading "
                                                          f"a message's attachments were spent"))
        else:
            each = dataclasses.replace(limits, max_chars=min(limits.max_chars, chars_left),
                                       seconds=min(limits.seconds, seconds_left))
            found = extract_text(name, attachment.content_type, payload, each)
            chars += len(found.text)
            texts.append(found)
    return tuple(texts)


def attachment_payloads(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """The message's attachments with their decoded bytes, in the order of ParsedMessage.attachments
    (none for a message too big to read, as parse_message lists none)."""
    try:
        if unread_reason(raw, None):
            return []
        msg = email.message_from_bytes(raw, policy=POLICY)
        return walk_parts(msg)[2]
    except Exception:
        return []

