"""Which dates in one part of a message its words tie to the wanted document (DOMAIN.md section 7 rule 1).

Each date is labelled by the cues (replies.date_cues) in its own clause before it, then by the letter
named shortly before in the same paragraph, then by the words just after it. Every cue is found in one
pass per pattern over the stretches a date can reach, and each look-up is a bisection, so this is linear.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re

from .date_cues import CLAUSE_END, IMMEDIATE_NEG, LINK, PARAGRAPH_END, SOFT_END, STRONG_NEG, VETO_AFTER
from .date_mentions import DateMention, find_mentions

LOCAL = 150  # characters of a date's own clause looked at before it
LOOKBACK = 300  # how far back a bare "it arrived on" or "dated" looks for the letter it means
AFTER = 90  # characters after a date looked at when nothing before it says what it is


class PartReading:
    """One part's dates, and the matches of each cue pattern scanned in it so far.

    The decision letter's reading and the certificate's read the same parts: both use this one, so the
    dates are found once and a pattern both weigh (the clause ends, link words, strong cues) is scanned once.
    """

    def __init__(self, body: str, sent: dt.date, relative: bool):
        self.body = body
        self.candidates = find_mentions(body, sent, relative)
        # Only the stretches a date's look-ups can reach are scanned (all of a body dense with dates).
        self.stretches: list[list[int]] = []
        for c in self.candidates:
            if not c.in_range:
                continue
            lo, hi = max(0, c.start - LOOKBACK), min(len(body), c.end + AFTER)
            if self.stretches and lo <= self.stretches[-1][1]:
                self.stretches[-1][1] = max(self.stretches[-1][1], hi)
            else:
                self.stretches.append([lo, hi])
        self._spans: dict[tuple[str, int], tuple[list[int], list[int]]] = {}

    def spans(self, pattern: re.Pattern[str]) -> tuple[list[int], list[int]]:
        """(starts, ends) of the pattern's matches in the stretches, each pattern scanned once."""
        key = (pattern.pattern, pattern.flags)
        found = self._spans.get(key)
        if found is None:
            starts: list[int] = []
            ends: list[int] = []
            for lo, hi in self.stretches:
                for m in pattern.finditer(self.body, lo, hi):
                    if not starts or m.start() >= ends[-1]:
                        starts.append(m.start())
                        ends.append(m.end())
            found = self._spans[key] = (starts, ends)
        return found


class _Index:
    """Every cue match in one part, found in one pass per pattern, so each date's look-up is a bisection.

    Matches of one pattern do not overlap, so their starts and ends both increase.
    """

    def __init__(self, reading: PartReading, patterns: dict[object, re.Pattern[str]]):
        self.spans = {key: reading.spans(pattern) for key, pattern in patterns.items()}

    def last(self, key: object, lo: int, hi: int) -> tuple[int, int] | None:
        """The match of key ending nearest hi that lies wholly within [lo, hi]."""
        starts, ends = self.spans[key]
        i = bisect.bisect_right(ends, hi) - 1
        return (starts[i], ends[i]) if i >= 0 and starts[i] >= lo else None

    def first(self, key: object, lo: int, hi: int) -> tuple[int, int] | None:
        """The match of key starting nearest lo that lies wholly within [lo, hi]."""
        starts, ends = self.spans[key]
        i = bisect.bisect_left(starts, lo)
        return (starts[i], ends[i]) if i < len(starts) and ends[i] <= hi else None


def _nearest(index: _Index, labels, lo: int, hi: int) -> tuple[int, int, int] | None:
    """(end, length, label) of the cue among labels ending nearest hi within [lo, hi]."""
    best = None
    for label in labels:
        span = index.last(label, lo, hi)
        if span and (best is None or (span[1], span[1] - span[0]) > best[:2]):
            best = (span[1], span[1] - span[0], label)
    return best


_STRONG_LABELS = (2, -2)
_NOUN_LABELS = (1, -1, 0)


def _label(body: str, index: _Index, c: DateMention, prev_end: int) -> int:
    """+1 if the text ties this date to the wanted document, otherwise 0 or -1."""
    lo = max(0, c.start - LOCAL, prev_end)
    hi = c.start
    clause = index.last("clause", lo, hi)
    if clause:
        lo = clause[1]
    soft = index.last("soft", lo, hi)
    if soft:
        lo = soft[1]
    if IMMEDIATE_NEG.search(body, max(lo, hi - 40), hi):
        return -1  # "by 3 May", "until 14 March": a deadline or a sum, never the letter
    strong = _nearest(index, _STRONG_LABELS, lo, hi)
    link = index.last("link", lo, hi)
    deadline = index.last("deadline", lo, hi)
    link_end = link[1] if link else -1
    if deadline and deadline[1] > link_end and (not strong or deadline[1] > strong[0]):
        return -1  # "the deadline for the final plan was ...", "gives me until ..."
    if strong and strong[0] > link_end:
        return 1 if strong[2] > 0 else -1
    noun = _nearest(index, _NOUN_LABELS, lo, hi)
    if noun is None and link is not None:
        # "it arrived on ...", "it is dated ...": the letter named shortly before, in the same paragraph
        back_lo = max(0, c.start - LOOKBACK)
        para = index.last("para", back_lo, lo)
        back_lo = para[1] if para else back_lo
        noun = _nearest(index, _STRONG_LABELS + _NOUN_LABELS, back_lo, lo)
        if noun is not None and abs(noun[2]) == 2:
            noun = None  # a call or a deadline back there says nothing about this date
        if noun is None:
            noun = _after(body, index, c)
    elif noun is None and strong is None:
        noun = _after(body, index, c)
    if noun is None or noun[2] == 0:
        return 0
    if noun[2] > 0 and VETO_AFTER.match(body, c.end, c.end + AFTER):
        return -1  # "your letter of 20 August acknowledged my request"
    return 1 if noun[2] > 0 else -1


def _after(body: str, index: _Index, c: DateMention) -> tuple[int, int, int] | None:
    """The first cue after a date, in its clause ("on 3 October I received your letter")."""
    hi = min(len(body), c.end + AFTER)
    stop = index.first("clause", c.end, hi)
    hi = stop[0] if stop else hi
    first = None
    for label in _STRONG_LABELS + _NOUN_LABELS:
        span = index.first(label, c.end, hi)
        if span and (first is None or span[0] < first[0]):
            first = (span[0], span[1] - span[0], label)
    return first


def tied_dates(body: str, sent: dt.date, cues, relative: bool, reading: PartReading | None = None
               ) -> list[DateMention]:
    """The dates in one part that its words tie to the wanted document (`reading`: the part read already)."""
    reading = reading or PartReading(body, sent, relative)
    candidates = reading.candidates
    if not any(c.in_range for c in candidates):
        return []
    patterns: dict[object, re.Pattern[str]] = {label: pattern for pattern, label in cues}
    for label in _STRONG_LABELS + _NOUN_LABELS:
        patterns.setdefault(label, _NEVER)
    patterns.update(link=LINK, deadline=STRONG_NEG, clause=CLAUSE_END, soft=SOFT_END, para=PARAGRAPH_END)
    index = _Index(reading, patterns)
    out = []
    prev_end = 0
    for c in candidates:
        if c.in_range and _label(body, index, c, prev_end) > 0:
            out.append(c)
        prev_end = c.end
    return out


_NEVER = re.compile(r"(?!)")
