"""Turn an email's subject and body into the text the model sees.

Only the sender's new words count: quoted earlier messages, forwarded headers, signatures
and legal disclaimers are cut, HTML becomes text, and whitespace and case are normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cues import cue_tokens
from .html_text import html_to_text
from html import unescape

__all__ = ["Document", "clean", "html_to_text", "new_text", "normalise", "prepare", "prepare_document", "strip_quoted"]


# A line that starts the quoted earlier message: everything from it on is old text.
_QUOTE_HEADERS = [
    re.compile(r"^\s*-{2,}\s*original message\s*-{2,}", re.I),
    re.compile(r"^\s*-{2,}\s*forwarded message\s*-{2,}", re.I),
    re.compile(r"^\s*begin forwarded message\s*:", re.I),
    re.compile(r"^\s*on\b.{0,120}\b(wrote|writes)\s*:?\s*$", re.I),
    re.compile(r"^\s*le\b.{0,120}\ba écrit\s*:?\s*$", re.I),
    re.compile(r"^\s*am\b.{0,120}\bschrieb\b.*:\s*$", re.I),
    re.compile(r"^\s*from:\s.+$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
]
# "From: X" only starts a quoted block when a Sent:/Date:/To: line follows closely.
_OUTLOOK_FOLLOWERS = re.compile(r"^\s*(sent|date|to|subject|cc)\s*:", re.I)

_SIGNATURE_STARTS = [
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*sent from my\b", re.I),
    re.compile(r"^\s*sent from (outlook|mail|yahoo|gmail|samsung)\b", re.I),
    re.compile(r"^\s*get outlook for\b", re.I),
    re.compile(r"^\s*(this (e-?mail|message)( and any attachments?)?|the information in this (e-?mail|message))\b.{0,80}\b(confidential|intended (solely|only))", re.I),
    re.compile(r"^\s*(confidentiality|disclaimer)( notice)?\s*:", re.I),
    re.compile(r"^\s*(privileged|confidential)( and|&) (confidential|privileged)", re.I),
]


def strip_quoted(body: str) -> str:
    """The new text of a reply: drop quoted lines, the quoted thread after its header, and signatures."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_quote(lines, index):
            break
        if any(p.match(line) for p in _SIGNATURE_STARTS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    text = "\n".join(kept).strip()
    # A message that is nothing but a forward: keep the forwarded text rather than nothing.
    if not text:
        text = "\n".join(l.lstrip("> ") for l in lines).strip()
    return text


_FORWARD_NOTE = re.compile(r"\b(forward\w*|fwd|see (the )?(email |message )?below|(email|message|note) (is )?below|below (from|is)"
                           r"|constituent|on (her|his|their) behalf|passing (this|it) on)\b", re.I)
_FORWARD_SUBJECT = re.compile(r"^\s*((re|aw)\s*:\s*)*(fw|fwd|tr)\s*:", re.I)


def new_text(subject: str, body: str) -> str:
    """The words a message asks us to act on: the new text, plus the forwarded message when the new
    text only passes it on (an MP's caseworker forwarding a constituent, a school forwarding a parent)."""
    own = strip_quoted(body)
    if not (_FORWARD_SUBJECT.match(subject or "") or _FORWARD_NOTE.search(own)):
        return own
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = next((i for i in range(len(lines)) if _starts_quote(lines, i)), None)
    if start is None:
        return own
    forwarded = "\n".join(re.sub(r"^\s*>\s?", "", line) for line in lines[start + 1:])
    return f"{own}\n{strip_quoted(_drop_header_block(forwarded))}"


_FORWARD_HEADER = re.compile(r"^\s*(from|sent|date|to|cc|subject)\s*:", re.I)


def _drop_header_block(text: str) -> str:
    """Drop the From:/Sent:/To:/Subject: lines that open a forwarded message."""
    lines = text.split("\n")
    start = 0  # an index, not list.pop(0): that moves every later line, so thousands of blank lines were quadratic
    while start < len(lines) and (not lines[start].strip() or _FORWARD_HEADER.match(lines[start])):
        start += 1
    return "\n".join(lines[start:])


def _starts_quote(lines: list[str], index: int) -> bool:
    line = lines[index]
    for pattern in _QUOTE_HEADERS:
        if pattern.match(line):
            if pattern.pattern.startswith(r"^\s*from:"):
                following = lines[index + 1 : index + 4]
                return any(_OUTLOOK_FOLLOWERS.match(f) for f in following)
            return index > 0  # a quote header on the very first line is a bare forward
    return False


def normalise(text: str) -> str:
    """Lower case, one space between words, no control characters."""
    text = unescape(text)
    text = re.sub(r"[\u200b-\u200f\ufeff]", "", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip().lower()


_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)
_INVISIBLE = re.compile(r"[\u200b-\u200f\ufeff\x00]")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean(text: str) -> str:
    """Text with invisible characters dropped and runs of spaces made one; case and lines kept."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", unescape(text))).strip()


def prepare(subject: str, body: str, html: bool = False) -> str:
    """The new words of an email, normalised, then its cue tokens (what the cues see; see features.py
    for all the route model reads)."""
    text = normalise(prepare_document(subject, body, html=html).text)
    return " ".join([text, *cue_tokens(text)])


@dataclass(frozen=True)
class Document:
    """What the models read from one email, case and line breaks kept.

    `text` (subject + new words) decides the route. `full_text` (subject + the whole body, quotes
    and forwards included) feeds the safeguarding detector: a risk described in a forwarded or
    quoted message still has to reach a person.
    """

    text: str
    full_text: str


def prepare_document(subject: str, body: str, html: bool = False) -> Document:
    """Both texts for one email."""
    if html:
        body = html_to_text(body)
    subject = _REPLY_PREFIX.sub("", subject or "")
    body = body or ""
    # The first line is always the subject (empty when there is none): the evidence reader relies on it.
    subject = " ".join(clean(subject).split())
    return Document(text=f"{subject}\n{clean(new_text(subject, body))}", full_text=f"{subject}\n{clean(body)}")
