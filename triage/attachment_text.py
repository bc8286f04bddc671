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
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .domain import AttachmentText

__all__ = ["AttachmentLimits", "AttachmentText", "attachment_kind", "extract_text", "normalise_text"]


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

_ROOT = Path(__file__).resolve().parents[1]  # the directory that holds the triage package
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from triage.attachment_text import _reader_main; _reader_main(sys.argv[2:])")


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
        return _in_reader(filename, kind, payload, limits)
    except Exception as exc:  # the last line of defence: a missing text, never a lost message
        return AttachmentText(filename, kind, error=f"could not be read ({type(exc).__name__})")


# -- normalising ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")  # NULs, control chars, lone surrogates
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32), 127])  # a file with many of these is not text


def normalise_text(text: str) -> str:
    """One space between words, no control characters or NULs, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = _CONTROL.sub("", text)
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ", max(0, max_chars - 200))  # end on a word boundary when one is near
    return (cut[:space] if space > 0 else cut).rstrip(), True


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
    text, truncated = _cut(normalise_text(text), limits.max_chars)
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


# -- PDF and DOCX (in a reader process) ------------------------------------------------------------

def _in_reader(filename: str, kind: str, payload: bytes, limits: AttachmentLimits) -> AttachmentText:
    """Run the reader process on the payload, killing it when it overruns its time; keep what it read."""
    seconds = max(limits.seconds, 0.0)
    command = [sys.executable, "-I", "-B", "-c", _BOOT, str(_ROOT), kind, str(limits.max_pages),
               str(limits.max_chars), str(limits.max_memory_bytes), str(math.ceil(seconds) + 1)]
    timed_out = False
    try:
        done = subprocess.run(command, input=payload, capture_output=True, timeout=seconds, check=False)
        output, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:  # run() has killed and reaped the reader
        timed_out, output, code = True, exc.output or b"", None
    except OSError as exc:
        return AttachmentText(filename, kind, error=f"the reader could not start ({exc.strerror or exc})")
    result, finished = _collect(filename, kind, output, limits)
    if result.error:
        return result
    if timed_out:
        return replace(result, truncated=True, error=f"stopped after the {seconds:g} s allowed for reading it")
    if code != 0 or not finished:
        how = f"was stopped by signal {-code}" if code is not None and code < 0 else f"failed (exit code {code})"
        return replace(result, truncated=bool(result.text),
                       error=f"the reader {how}: the file may be too big, or built to break readers")
    if not result.text and kind == "pdf":
        return replace(result, error="no text in it: a scanned image? (pictures are not read)")
    return result


def _collect(filename: str, kind: str, output: bytes, limits: AttachmentLimits) -> tuple[AttachmentText, bool]:
    """Put together the reader's records (one JSON object a line; a cut last line is ignored)."""
    texts: list[str] = []
    pages, truncated, error, finished = 0, False, "", False
    for line in output.split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        pages = int(record.get("pages", pages) or 0)
        texts.append(str(record.get("text", "")))
        truncated = truncated or bool(record.get("truncated"))
        error = error or str(record.get("error", ""))
        finished = finished or bool(record.get("done"))
    text, cut = _cut(normalise_text("\n\n".join(t for t in texts if t)), limits.max_chars)
    return AttachmentText(filename, kind, text, truncated or cut, error, pages), finished


def _reader_main(argv: list[str]) -> None:
    """The reader process: payload on stdin, records on stdout. Only run by _in_reader."""
    kind, max_pages, max_chars, max_memory, cpu_seconds = argv[0], *map(int, argv[1:5])
    out = sys.stdout

    def emit(**record: Any) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    try:
        read = _read_pdf if kind == "pdf" else _read_docx
        payload = sys.stdin.buffer.read()
        _confine(max_memory, cpu_seconds)  # after the imports, which need more than the reading
        read(payload, max_pages, max_chars, emit)
        emit(done=True)
    except MemoryError:
        emit(error="too big to read within the reader's memory limit")
    except RecursionError:
        emit(error="broken file: nested too deeply to read")
    except Exception as exc:
        emit(error=_reason(kind, exc))


def _confine(max_memory: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not a POSIX system: the wall-clock kill still applies
        return
    for limit, value in ((resource.RLIMIT_AS, max_memory), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, 0), (resource.RLIMIT_CORE, 0)):
        try:
            soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, hard))
        except (ValueError, OSError):
            pass


def _reason(kind: str, exc: Exception) -> str:
    detail = " ".join(str(exc).split())[:200]
    return f"broken {kind.upper()}: {type(exc).__name__}" + (f": {detail}" if detail else "")


def _read_pdf(payload: bytes, max_pages: int, max_chars: int, emit: Callable[..., None]) -> None:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(payload), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many "protected" PDFs only restrict printing or copying
        except Exception:
            opened = 0
        if not opened:
            emit(error="encrypted")
            return
    emit(pages=len(reader.pages))
    used = 0
    for index, page in enumerate(reader.pages):
        if index >= max_pages:
            emit(truncated=True)
            return
        text = normalise_text(page.extract_text() or "")
        if used + len(text) > max_chars:
            emit(text=text[: max_chars - used], truncated=True)
            return
        used += len(text) + 2
        emit(text=text)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TEXT_TAGS = {f"{{{_W}}}t": None, f"{{{_W}}}tab": "\t", f"{{{_W}}}br": "\n", f"{{{_W}}}cr": "\n"}
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _read_docx(payload: bytes, max_pages: int, max_chars: int, emit: Callable[..., None]) -> None:
    """Every paragraph in document order: headers first, then the body with its tables and text
    boxes (a letter's address and date are often in one); the old-Word copy of a text box is skipped."""
    import docx

    document = docx.Document(io.BytesIO(payload))
    roots = []
    for section in document.sections:
        for header in (section.first_page_header, section.header):
            if not header.is_linked_to_previous:
                roots.append(header._element)
    roots.append(document.element.body)
    used = 0
    seen_headers: set[str] = set()
    for n, root in enumerate(roots):
        lines = []
        for p in root.iter(f"{{{_W}}}p"):
            if any(a.tag == _FALLBACK for a in p.iterancestors()):
                continue
            lines.append(_paragraph_text(p))
        text = normalise_text("\n".join(lines))
        if n < len(roots) - 1:  # a header repeated by several sections is given once
            if text in seen_headers:
                continue
            seen_headers.add(text)
        if used + len(text) > max_chars:
            emit(text=text[: max_chars - used], truncated=True)
            return
        used += len(text) + 2
        emit(text=text)


def _paragraph_text(p: Any) -> str:
    """A paragraph's own text, tracked insertions, hyperlinks and fields included (deleted text is
    w:delText, so left out); a text box's paragraphs inside it are read as paragraphs of their own."""
    parts = []
    for element in p.iter(*_TEXT_TAGS):
        if next(element.iterancestors(f"{{{_W}}}p"), None) is not p:
            continue
        fixed = _TEXT_TAGS[element.tag]
        parts.append(element.text or "" if fixed is None else fixed)
    return "".join(parts)
