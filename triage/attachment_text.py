"""The bytes of one attachment -> its text: PDF (pypdf), DOCX (python-docx) and plain text.

Parents often write only "please see my attached letter", so the letter's text has to be read for
the classifier, the caseworker, the queue search and the deadline reader. extract_text() never
raises: a file it cannot read comes back as an AttachmentText with .error set.

Nothing in an attachment is ever executed or followed:
- pypdf and python-docx are parsers, nothing more. pypdf never runs a PDF's JavaScript, open or
  launch actions, or form scripts, and fetches nothing; python-docx reads the XML parts with entity
  resolution off (no XXE, no entity expansion), never runs VBA macros (it does not even open a
  .docm's vbaProject.bin) and never follows external relationships (linked images, templates).
- PDFs and DOCX are read in a separate, fresh Python process (started with -I -B, not forked from
  this one, so no lock or thread of the service is copied into it) with its memory, CPU time and
  file writes limited; it is killed when it overruns its wall-clock budget. A file built to hang,
  crash or exhaust the reader costs only that attachment's text, never the service.
- A DOCX is refused before any reading when its zip declares more uncompressed data, or more
  entries, than the limits allow (a zip bomb): zipfile never inflates an entry past its declared
  size, so the declared sizes bound what the reader can inflate.
Plain-text attachments are decoded in this process: that is only a bounded bytes.decode().

The reader process is triage.attachment_reader; the PDF and DOCX readers it runs are in
triage.document_readers.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .attachment_reader import read_in_reader
from .domain import AttachmentText
from .extracted_text import cut_text, normalise_text

__all__ = ["AttachmentLimits", "AttachmentText", "attachment_kind", "extract_text"]


@dataclass(frozen=True)
class AttachmentLimits:
    """How much of an attachment is read, and for how long. The defaults suit decision letters
    (one to a few pages) with a wide margin, and bound the worst case of a hostile message."""

    max_bytes: int = 10_000_000  # a larger attachment is not read at all (the error says so)
    max_pages: int = 30  # PDF pages read; the rest is left out (truncated)
    max_chars: int = 50_000  # text kept from one attachment
    max_message_chars: int = 100_000  # text kept from all of one message's attachments
    seconds: float = 5.0  # wall clock for one PDF or DOCX, the reader's start included
    message_seconds: float = 20.0  # wall clock for all of one message's PDFs and DOCX
    max_attachments: int = 10  # attachments read per message; later ones are listed, not read
    max_unzipped_bytes: int = 50_000_000  # DOCX: total declared uncompressed size of the zip
    max_zip_entries: int = 1_000  # DOCX: files in the zip
    max_memory_bytes: int = 1_000_000_000  # address space of the reader process


PDF_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/acrobat"})
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
TEXT_EXTENSIONS = frozenset({".txt", ".csv", ".text"})


def attachment_kind(filename: str, content_type: str, payload: bytes) -> str:
    """'pdf', 'docx' or 'text' by magic bytes first, then content type and extension; '' for anything else.

    A file named or typed as a PDF or DOCX that is not one is still given that kind: reading it then
    reports it broken, which is what a caseworker should be told.
    """
    ctype = (content_type or "").lower()
    ext = Path((filename or "").lower()).suffix
    if b"%PDF-" in payload[:1024]:
        return "pdf"
    if payload.startswith(b"PK\x03\x04") and _zip_has(payload, "word/document.xml"):
        return "docx"
    if ctype in PDF_TYPES or ext == ".pdf":
        return "pdf"
    if ctype == DOCX_TYPE or ext == ".docx":
        return "docx"
    if ctype in TEXT_TYPES or ext in TEXT_EXTENSIONS:
        return "text"
    return ""


def extract_text(filename: str, content_type: str, payload: bytes,
                 limits: AttachmentLimits = AttachmentLimits()) -> AttachmentText:
    """The text of one attachment, within the limits; never raises."""
    filename = (filename or "").replace("\x00", "")
    kind = ""
    try:
        kind = attachment_kind(filename, content_type, payload)
        if not kind:
            return AttachmentText(filename, "", error="not a PDF, DOCX or plain-text file")
        if len(payload) > limits.max_bytes:
            return AttachmentText(filename, kind, error=f"not read: {_size(len(payload))} is over the "
                                                        f"{_size(limits.max_bytes)} limit for attachments")
        if kind == "text":
            return _plain_text(filename, payload, limits)
        if kind == "docx":
            problem = _docx_problem(payload, limits)
            if problem:
                return AttachmentText(filename, kind, error=problem)
        return read_in_reader(filename, kind, payload, limits)
    except Exception as exc:  # the last line of defence: a missing text, never a lost message
        return AttachmentText(filename, kind, error=f"could not be read ({type(exc).__name__})")


_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32), 127])  # a file with many of these is not text


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


# -- plain text (in this process) ------------------------------------------------------------------

def _plain_text(filename: str, payload: bytes, limits: AttachmentLimits) -> AttachmentText:
    data = payload[: limits.max_chars * 4]  # no more bytes than max_chars characters can take
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    else:
        sample = data[:8192]
        if sum(sample.count(c) for c in _CONTROL_BYTES) > len(sample) // 20:  # a stray NUL is dropped;
            return AttachmentText(filename, "text", error="binary data, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # only the last character, cut in two by the byte limit
                text = data[: exc.start].decode("utf-8-sig", "replace")
            else:
                text = data.decode("cp1252", "replace")
    text, truncated = cut_text(normalise_text(text), limits.max_chars)
    return AttachmentText(filename, "text", text, truncated or len(payload) > len(data))


# -- DOCX checks (in this process: the zip's directory only, nothing inflated) ---------------------

def _zip_has(payload: bytes, name: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as z:
            return any(i.filename == name for i in z.infolist())
    except Exception:
        return False


def _docx_problem(payload: bytes, limits: AttachmentLimits) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as z:
            infos = z.infolist()
    except Exception:
        return "broken DOCX: not a zip file"
    if len(infos) > limits.max_zip_entries:
        return f"refused: the DOCX holds {len(infos):,} files, over the limit of {limits.max_zip_entries:,}"
    unzipped = sum(i.file_size for i in infos)
    if unzipped > limits.max_unzipped_bytes:
        return (f"refused: the DOCX would unzip to {_size(unzipped)}, over the {_size(limits.max_unzipped_bytes)} "
                f"limit (a zip bomb?)")
    if not any(i.filename == "word/document.xml" for i in infos):
        return "broken DOCX: no word/document.xml"
    return ""
