"""A message's header fields read leniently: decoded text, addresses, the Date: within sane years, and
the signs that a machine sent it. Never raises: an unreadable field reads as '' or None.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from email.header import Header, decode_header, make_header
from email.message import Message

from .domain import AutoMarkers

# A Date: outside these years is no date: near year 9999 it overflows once turned to UTC (and the
# database then refused the message at every poll); nothing the team receives predates 1970 or follows 2100.
DATE_YEARS = (1970, 2100)
DATE_OUT_OF_RANGE = "DateOutOfRangeDefect"  # in .defects when the Date: header was refused
_ROBOT_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|auto-?reply|notifications?|noreply-.*|.*-noreply)$",
    re.I,
)
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-ms-exchange-inbox-rules-loop", "x-mailer-daemon-error")


def auto_markers(msg: Message, from_address: str, delivery_report: bool) -> AutoMarkers:
    """The signs in its headers that a machine sent the message (auto-replies, lists, bounces), which
    keep the service from answering it; `delivery_report` comes from its MIME parts."""
    return AutoMarkers(
        auto_submitted=header(msg, "auto-submitted").split(";")[0].strip().lower(),
        precedence=header(msg, "precedence").strip().lower(),
        list_id=header(msg, "list-id").strip(),
        list_unsubscribe=bool(header(msg, "list-unsubscribe").strip()),
        delivery_report=delivery_report,
        robot_sender=_is_robot(from_address),
        # RFC 3834 asks auto-responders and bounces to use the null reverse-path.
        null_return_path=header(msg, "return-path").strip() == "<>",
        autoreply_header=any(header(msg, h) for h in _AUTOREPLY_HEADERS),
    )


def header(msg: Message, name: str) -> str:
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


def addresses(value: str) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(a.strip().lower() for _, a in email.utils.getaddresses([value]) if "@" in a)


def header_date(value: str) -> dt.datetime | None:
    """The Date: header as an aware datetime; None when absent, unreadable or outside DATE_YEARS."""
    parsed = _read_date(value)
    return None if parsed is None or date_out_of_range(value) else parsed


def _read_date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def date_out_of_range(value: str) -> bool:
    """Whether a readable Date: header lies outside DATE_YEARS, in its own zone or in UTC."""
    parsed = _read_date(value)
    if parsed is None:
        return False
    try:
        utc = parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        return True
    return not all(DATE_YEARS[0] <= d.year <= DATE_YEARS[1] for d in (parsed, utc))


def _is_robot(address: str) -> bool:
    return bool(address) and bool(_ROBOT_LOCALPARTS.match(address.split("@", 1)[0]))

