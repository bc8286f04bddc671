"""The decision letter's (or mediation certificate's) date read out of an email (DOMAIN.md section 7
rules 1, 2 and 8); pure, no I/O.

find_decision_date() and find_certificate_date() never guess: no date tied to the document means None.

The body is cut into parts: the writer's new text ("message"), our own quoted emails ("our_email")
and other people's quoted text (never read). Every date in a part is labelled by the words around
it: only a date tied to the council's decision letter (or certificate, for C) is kept. Attached
documents are read only when one is the council's letter (or the certificate) itself: its own date.
Every pattern has bounded repetition and every window is a bounded slice, so reading is linear.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

from .date_cues import CUES
from .date_labels import PartReading, tied_dates
from .date_mentions import DateMention, find_mentions
from .quoted_parts import split_by_writer
from .working_days import long_date


@dataclass(frozen=True)
class FoundDate:
    """A date read from an email: the date, the words it came from, and how it was read."""

    date: dt.date
    text: str
    approximate: bool
    rule: str
    source: str = "message"  # 'message', 'our_email' or 'attachment'


# Reading is linear but not cheap (about 1 s for 200 KB of dates), so it is bounded: the body is split
# into parts from its first SPLIT_CHARS, and dates are read from the first PART_CHARS of each part read
# (the writer's new text, our own quoted emails) and from READ_CHARS in all. A decision letter's date
# comes early in what cites it; a message that buries it deeper gets "no date" and a caseworker's look.
SPLIT_CHARS = 500_000
PART_CHARS = 20_000
READ_CHARS = 60_000


# --- attached documents ---

_DEAR = re.compile(r"^\s{0,8}dear\b", re.I | re.M)
_DECIDED = re.compile(r"\b(?:(?:we|the\s{1,3}(?:local\s{1,3})?authority|the\s{1,3}council|the\s{1,3}la|panel)\s{1,3}"
                      r"(?:has\s{1,3}|have\s{1,3})?decided|decision\s{1,3}(?:is|was)|not\s{1,3}to\s{1,3}(?:carry\s{1,3}"
                      r"out|issue|proceed|assess|amend|reassess|maintain)|ceas\w{1,3}\s{1,3}to\s{1,3}maintain|final\s{1,3}"
                      r"(?:amended\s{1,3})?(?:ehc\s{0,3}p?|education,?\s{1,3}health\s{1,3}and\s{1,3}care\s{1,3})?plan|"
                      r"amended\s{1,3}(?:ehc\s{0,3})?plan|right\s{1,3}to\s{1,3}appeal)", re.I)
_NOT_COUNCIL = re.compile(r"\b(?:our\s{1,3}client|we\s{1,3}act\s{1,3}for|on\s{1,3}behalf\s{1,3}of\s{1,3}(?:our|my)|"
                          r"mediation\s{1,3}certificate|psycholog\w{0,4}\s{1,3}(?:advice|report)|draft\s{1,3}(?:ehc\s{0,3})?plan"
                          r"\s{1,3}for|you\s{1,3}have\s{1,3}15\s{1,3}days)", re.I)
_IS_CERTIFICATE = re.compile(r"\bmediation\s{1,3}certificate\b|\bcertificate\b[^\n]{0,80}\bmediation\b", re.I)
_ISSUE_LABEL = re.compile(r"\b(?:date\s{1,3}of\s{1,3}issue|issue\s{1,3}date|date\s{1,3}issued|issued\s{1,3}on|"
                          r"certificate\s{1,3}date)\b\W{0,3}$", re.I)
_LINE_NEG = re.compile(r"\b(?:d\.?o\.?b|birth|born|assessment|report|meeting|panel|review|hearing|ref\w{0,9}|"
                       r"received|deadline|draft)\b", re.I)


def _document_date(doc: str, sent: dt.date, wanted: str) -> DateMention | None:
    """The date an attached document bears, when it is the council's letter (D) or the certificate (C)."""
    head = doc[:20000]
    if wanted == "D":
        if _NOT_COUNCIL.search(head) or not _DECIDED.search(head):
            return None
    elif not _IS_CERTIFICATE.search(head[:3000]):
        return None
    dear = _DEAR.search(head)
    top = head[: dear.start()] if dear else head[:1500]
    candidates = [c for c in find_mentions(top, sent, relative=False) if c.in_range]
    for c in candidates:  # "Date of issue: 29 October 2026"
        line_start = top.rfind("\n", 0, c.start) + 1
        if wanted == "C" and _ISSUE_LABEL.search(top[line_start: c.start]):
            return c
    for c in candidates:  # the letter's own date: a line with nothing but a date (or "Date: ...")
        line_start = top.rfind("\n", 0, c.start) + 1
        line_end = top.find("\n", c.end)
        line = top[line_start: line_end if line_end >= 0 else len(top)]
        rest = (line[: c.start - line_start] + line[c.end - line_start:]).strip(" \t:,.")
        if not _LINE_NEG.search(line) and (not rest or re.fullmatch(r"(?i)(?:date|dated|letter\s{1,3}date)\s{0,3}:?",
                                                                    rest)):
            return c
    return None


# --- choosing ---

_SOURCE_RANK = {"our_email": 0, "attachment": 1, "message": 2}
_SOURCE_NOTE = {"message": "", "our_email": ", from our own email quoted in the reply",
                "attachment": ", from the attached letter's own date"}


def read_parts(text: str, sent: dt.date, ours: Sequence[str]) -> list[tuple[str, PartReading]]:
    """The parts of the body that are read (the writer's new text, our own quoted emails), each read once
    for both documents: its dates found, its cue matches kept as they are scanned."""
    parts = []
    budget = READ_CHARS
    for source, body in split_by_writer((text or "")[:SPLIT_CHARS], ours):
        if source == "other" or budget <= 0:
            continue  # other people's words, or ours we cannot recognise: never read
        body = body[:min(PART_CHARS, budget)]
        budget -= len(body)
        parts.append((source, PartReading(body, sent, source == "message")))
    return parts


def _pick(text: str, sent: dt.date, attachments: Sequence[str], ours: Sequence[str], wanted: str,
          what: str, parts: list[tuple[str, PartReading]] | None = None) -> FoundDate | None:
    found: list[tuple[str, DateMention]] = []
    for source, reading in read_parts(text, sent, ours) if parts is None else parts:
        perspective = "council" if source == "our_email" else "parent"
        found += [(source, c) for c in tied_dates(reading.body, sent, CUES[(perspective, wanted)],
                                                  source == "message", reading)]
    for doc in attachments:
        c = _document_date(doc or "", sent, wanted)
        if c is not None:
            found.append(("attachment", c))
    if not found:
        return None
    # A full date beats a year-less, month-only or relative one; then our own email, an attached letter,
    # the new text; then the earliest of that source's dates (a letter is dated before it arrives).
    exact = [f for f in found if not f[1].approximate] or found
    rank = min(_SOURCE_RANK[s] for s, _ in exact)
    best_source = next(s for s in _SOURCE_RANK if _SOURCE_RANK[s] == rank)
    same = [c for s, c in exact if s == best_source]
    best = min(same, key=lambda c: (c.date, c.start))
    note = _SOURCE_NOTE[best_source]
    dates = len({c.date for c in same})
    if dates > 1:
        note += f", the earliest of {dates} dates given for the {what}"
    how = f", {best.how}" if best.how else ""
    return FoundDate(best.date, best.text, best.approximate,
                     f"Read '{best.text}' as {long_date(best.date)}{how}{note}.", source=best_source)


def find_decision_date(text: str, sent: dt.date, *, attachments: Sequence[str] = (),
                       ours: Sequence[str] = ()) -> FoundDate | None:
    """The decision letter's date (DOMAIN.md section 7 rules 1 and 8), or None when nothing ties a date to it.

    text is the whole plain-text body, quoted history included; ours names the council (addresses, team
    and council names) so its own quoted emails are recognised; attachments are attached documents' texts.
    """
    return _pick(text, sent, attachments, ours, "D", "decision letter")


def find_certificate_date(text: str, sent: dt.date, *, attachments: Sequence[str] = (),
                          ours: Sequence[str] = ()) -> FoundDate | None:
    """The mediation certificate's issue date (rule 2), read the same way, or None."""
    return _pick(text, sent, attachments, ours, "C", "mediation certificate")


def find_document_dates(text: str, sent: dt.date, *, attachments: Sequence[str] = (),
                        ours: Sequence[str] = ()) -> tuple[FoundDate | None, FoundDate | None]:
    """(the decision letter's date, the certificate's): find_decision_date and find_certificate_date
    with the body read once for both (its parts, their dates, the cue patterns both weigh)."""
    parts = read_parts(text, sent, ours)
    return (_pick(text, sent, attachments, ours, "D", "decision letter", parts),
            _pick(text, sent, attachments, ours, "C", "mediation certificate", parts))
