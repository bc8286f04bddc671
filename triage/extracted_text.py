"""Text read from an attachment made tidy and bounded: one space between words, no control
characters, at most one blank line in a row, cut on a word boundary.

Used both in the service (plain-text attachments, the reader's records) and in the reader process.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")  # NULs, control chars, lone surrogates
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """One space between words, no control characters or NULs, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = _CONTROL.sub("", text)
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def cut_text(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ", max(0, max_chars - 200))  # end on a word boundary when one is near
    return (cut[:space] if space > 0 else cut).rstrip(), True
