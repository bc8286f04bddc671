"""What the store writes when a message cannot be stored as it came: its raw bytes and a stub for review.

One message must never stop intake: a field the database refuses (a Reply-To longer than its column
on PostgreSQL, a date past year 9999 once turned to UTC, a character a driver cannot encode) used to
abort the batch, and every later poll aborted at the same message. add_batch (batch.py) writes the
batch in one go; when that fails for a reason that belongs to a message rather than to the database,
it writes the batch again one SAVEPOINT per message, and a message that still fails is stored as the
stub built here: the raw bytes exactly as fetched (nothing is lost, a caseworker can read them), the
header fields clipped to their columns and cleaned, no body text, no date, needs review, flagged
`storage_failed`, nothing sent to the sender. Its parse_error and event say that storing failed and
name the error's kind only: a database error's text can quote the row's values (the subject, the
address), and those belong neither in the log nor in the event chain.

Every length-limited column is also clipped where the ordinary rows are built (`clip`), so the stub
path is for what no one foresaw, not for the usual long header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..domain import Classification, DraftText, OutboxKind, ParsedMessage

if TYPE_CHECKING:
    from ..domain import NewMessage


STORAGE_FAILED = "storage_failed"  # the stub's item flag (its parse_failed event gives the error's kind)

# PostgreSQL SQLSTATE classes that say the database, not the row, is at fault: connection (08),
# transaction rollback such as a deadlock (40), insufficient resources (53), operator intervention
# such as a shutdown (57), system error (58), internal error (XX). Retrying such a batch one message
# at a time would turn good messages into stubs; the batch is rolled back instead (nothing is marked
# on the server) and the next poll tries again.
_ENVIRONMENTAL_SQLSTATE = ("08", "40", "53", "57", "58", "XX")

# Column limits of the messages table (tables.MessageRow). B-tree index entries are also limited in
# bytes on PostgreSQL (about 2,700), so an indexed text column is clipped in UTF-8 bytes too.
FROM_NAME = 300
FROM_ADDRESS = 320
MESSAGE_ID = 998
INDEXED_BYTES = 2000
SUBJECT_STUB = 300
REFERENCE = 40


def clip(text: str, chars: int, utf8_bytes: int | None = None) -> str:
    """`text` cut to fit a String(chars) column (and, for an indexed one, `utf8_bytes` bytes)."""
    text = text[:chars]
    if utf8_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > utf8_bytes:
        text = text.encode("utf-8", "surrogatepass")[:utf8_bytes].decode("utf-8", "ignore")
    return text


def clean(text: str) -> str:
    """Text every database and driver accepts: no NUL, no lone surrogate."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def environmental(exc: BaseException) -> bool:
    """Whether a failure lies with the database (down, locked, restarting), not with one message."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _ENVIRONMENTAL_SQLSTATE
    # SQLite (no SQLSTATE): "database is locked", "disk I/O error", "unable to open database file".
    return isinstance(exc, (OperationalError, InterfaceError))


def error_kind(exc: BaseException) -> str:
    """The error's kind, never its text: 'DataError (StringDataRightTruncation)'."""
    inner = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    kind = type(exc).__name__
    return f"{kind} ({type(inner).__name__})" if inner is not None and type(inner) is not type(exc) else kind


def stub(new: NewMessage, exc: BaseException, bare: bool = False) -> NewMessage:
    """The message as it is stored when storing it as it came failed: raw bytes, clipped headers, for review.

    The classification is kept (a safeguarding flag and its alert to the duty team still go out); the
    acknowledgement is not (its address may be what failed). `bare` drops the classification, alert and
    events as well, and adds the UID to the case reference (a unique column: two messages' references
    can clash): the last resort, should even that stub fail."""
    error = f"storage failed: {error_kind(exc)}; the raw message is kept for review"
    p = new.parsed
    parsed = ParsedMessage(
        message_id=clip(clean(p.message_id), MESSAGE_ID, INDEXED_BYTES),
        from_name=clip(clean(p.from_name), FROM_NAME), from_address=clip(clean(p.from_address), FROM_ADDRESS, 1000),
        to=(), cc=(), reply_to="", subject=clip(clean(p.subject), SUBJECT_STUB), date=None, in_reply_to="",
        references=(), text="", html="", attachments=(), auto=p.auto if not bare else type(p.auto)(), error=error)
    fetched = new.fetched
    if not _convertible(fetched.internal_date):
        fetched = replace(fetched, internal_date=None)
    kept = None if bare or new.classification is None else new.classification
    if new.recorded_only:
        return replace(new, fetched=fetched, parsed=parsed, classification=None, draft=None, draft_meta=None,
                       flags=(), outgoing=(), events=())
    classification = replace(kept, needs_review=True) if kept is not None else Classification(
        "other", 0.0, True, False, {}, new.classification.model_version if new.classification else "")
    draft = DraftText(f"Your message to the EHC team ({new.reference})",
                      "[No draft: this message could not be stored as it came. Read the original message.]", "")
    alerts = () if bare else tuple(m for m in new.outgoing if m.kind is OutboxKind.ALERT)
    reference = clip(f"{new.reference}-U{new.fetched.uid}", REFERENCE) if bare else new.reference
    return replace(new, fetched=fetched, parsed=parsed, reference=reference, classification=classification,
                   draft=draft, draft_meta={},
                   flags=(STORAGE_FAILED,), due_at=new.due_at if _convertible(new.due_at) else None,
                   statutory_deadline=None, outgoing=alerts,
                   events=() if bare else tuple(e for e in new.events if _event_name(e) == "safeguarding_flagged"))


def _event_name(event: object) -> str:
    """An event of NewMessage.events, a (name, data) pair or a catalogue event."""
    if isinstance(event, tuple):
        return str(event[0])
    return str(getattr(event, "event_name", getattr(type(event), "name", "")))


def _convertible(moment: object) -> bool:
    """Whether a datetime survives being turned into UTC (a year-9999 date with a negative offset does not)."""
    if moment is None:
        return True
    try:
        moment.astimezone(dt.timezone.utc)  # type: ignore[attr-defined]
        return True
    except (OverflowError, ValueError, AttributeError):
        return False
