"""The PDF (pypdf) and DOCX (python-docx) readers, run only inside the reader process
(triage.attachment_reader). Each emits its text as records, page by page or part by part, and stops
at the limits it is given.

pypdf never runs a PDF's JavaScript, open or launch actions, or form scripts, and fetches nothing;
python-docx reads the XML parts with entity resolution off, never runs VBA macros and never follows
external relationships. The libraries are imported inside the readers: the service never loads them.
"""

from __future__ import annotations

import io
from typing import Any, Callable

from .extracted_text import normalise_text


def read_pdf(payload: bytes, max_pages: int, max_chars: int, emit: Callable[..., None]) -> None:
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


def read_docx(payload: bytes, max_pages: int, max_chars: int, emit: Callable[..., None]) -> None:
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
