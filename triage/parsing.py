"""bytes -> ParsedMessage. Pure, no I/O, and never raises: a broken message comes back with .error set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import email
import email.policy
import email.utils
import re
from email.header import Header, decode_header, make_header
from email.message import Message

from classifier.text import Document, clean, html_to_text, new_text, prepare_document

from .attachment_text import AttachmentLimits, attachment_kind, extract_text
from .domain import Attachment, AttachmentText, AutoMarkers, ParsedMessage

MAX_TEXT_CHARS = 200_000
_ROBOT_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|auto-?reply|notifications?|noreply-.*|.*-noreply)$",
    re.I,
)
# Defects that mean the structure is lost, so the text we found may be wrong or missing.
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-ms-exchange-inbox-rules-loop", "x-mailer-daemon-error")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FATAL_DEFECTS = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect"}


def parse_message(raw: bytes, attachment_limits: AttachmentLimits | None = AttachmentLimits()) -> ParsedMessage:
    """Parse raw RFC 5322 bytes into a ParsedMessage; errors are reported in .error, never raised.

    The text of PDF, DOCX and plain-text attachments is read within `attachment_limits` (None: not read).
    """
    try:
        return _without_nul(_parse(raw, attachment_limits))
    except Exception as exc:  # the last line of defence: store and flag, never drop
        return _broken(f"{type(exc).__name__}: {exc}")


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
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not msg.keys():
        return _broken("not an email: the message has no headers")

    from_name, from_address = _first_address(_header(msg, "from"))
    reply_to = _first_address(_header(msg, "reply-to"))[1]
    text_parts, html_parts, parts, delivery_report = _walk(msg)
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
    auto = AutoMarkers(
        auto_submitted=_header(msg, "auto-submitted").split(";")[0].strip().lower(),
        precedence=_header(msg, "precedence").strip().lower(),
        list_id=_header(msg, "list-id").strip(),
        list_unsubscribe=bool(_header(msg, "list-unsubscribe").strip()),
        delivery_report=delivery_report,
        robot_sender=_is_robot(from_address),
        # RFC 3834 asks auto-responders and bounces to use the null reverse-path.
        null_return_path=_header(msg, "return-path").strip() == "<>",
        autoreply_header=any(_header(msg, h) for h in _AUTOREPLY_HEADERS),
    )
    return ParsedMessage(
        message_id=_header(msg, "message-id").strip(),
        from_name=from_name,
        from_address=from_address,
        to=_addresses(_header(msg, "to")),
        cc=_addresses(_header(msg, "cc")),
        reply_to=reply_to,
        subject=" ".join(_header(msg, "subject").split()),
        date=_date(_header(msg, "date")),
        in_reply_to=_header(msg, "in-reply-to").strip(),
        references=tuple(_header(msg, "references").split()),
        text=text[:MAX_TEXT_CHARS],
        html=html[:MAX_TEXT_CHARS],
        attachments=tuple(attachments),
        auto=auto,
        defects=defects,
        error=error,
        attachment_texts=_attachment_texts(parts, attachment_limits) if attachment_limits else (),
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


def _header(msg: Message, name: str) -> str:
    """A header decoded to str (RFC 2047 words too), '' when absent; never raises.

    A word in a charset it breaks (a stray byte in gb2312) is decoded with replacement characters,
    and raw 8-bit bytes (RFC 6532 UTF-8 headers, or a legacy charset sent unencoded) are read as
    UTF-8, else Windows-1252, instead of staying as surrogate escapes that nothing can write out.
    """
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, Header):  # raw 8-bit bytes: the parser kept them as an 'unknown-8bit' Header
        return "".join(_lenient(word, charset) for word, charset in decode_header(value))
    try:
        words = decode_header(str(value))
    except Exception:
        return _unescape(str(value))
    try:
        return _unescape(str(make_header(words)))
    except Exception:  # a charset the word's bytes break, or one Python does not know
        return _unescape("".join(_lenient(word, charset) for word, charset in words))


def _lenient(word: bytes | str, charset: str | None) -> str:
    if isinstance(word, str):
        return word
    if charset in (None, "unknown-8bit"):
        return _unescape(word.decode("ascii", "surrogateescape"))
    try:
        return word.decode(charset or "ascii", "replace")
    except LookupError:
        return word.decode("cp1252", "replace")


def _unescape(text: str) -> str:
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _first_address(value: str) -> tuple[str, str]:
    pairs = email.utils.getaddresses([value]) if value else []
    for name, address in pairs:
        if "@" in address:
            return name.strip(), address.strip().lower()
    return "", ""


def _addresses(value: str) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(a.strip().lower() for _, a in email.utils.getaddresses([value]) if "@" in a)


def _date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _is_robot(address: str) -> bool:
    return bool(address) and bool(_ROBOT_LOCALPARTS.match(address.split("@", 1)[0]))


def attachment_payloads(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """The message's attachments with their decoded bytes, in the order of ParsedMessage.attachments."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        return _walk(msg)[2]
    except Exception:
        return []


def _walk(msg: Message) -> tuple[list[str], list[str], list[tuple[Attachment, bytes]], bool]:
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
