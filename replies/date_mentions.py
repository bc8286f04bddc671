"""Every date mentioned in a stretch of text, read UK day-first and resolved against the day the
email was sent ("last Tuesday", "3rd Sept", "03/09/26"); pure, no I/O.

Which of them is the decision letter's date is decided by its words (replies.date_labels). Every
pattern has bounded repetition, so reading is linear.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .working_days import MONTHS, WEEKDAYS, add_months

# A decision older than this cannot usefully start a deadline; old dates are usually a birth date.
OLDEST_MONTHS = 36
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?[ \t]{1,3}(?P<year>\d{4})\b)?"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WD = r"(?:(?P<wd>mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6},?[ \t]{1,3}(?:the[ \t]{1,3})?)?"
_PATTERNS = (  # in priority order: a later match overlapping an earlier one is dropped
    ("iso", re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")),
    ("numeric", re.compile(r"(?<![\d/.])(?P<day>\d{1,2})([/.])(?P<month>\d{1,2})\2(?P<year>\d{4}|\d{2})(?![\d/])")),
    ("named", re.compile(rf"\b{_WD}{_DAY}(?:[ \t]{{1,3}}of)?\s{{1,3}}{_MONTH}{_YEAR}", re.I)),
    ("named", re.compile(rf"\b{_WD}{_MONTH}[ \t]{{1,3}}{_DAY}\b{_YEAR}", re.I)),
    ("this_month", re.compile(rf"\b{_DAY}[ \t]{{1,3}}of[ \t]{{1,3}}(?P<which>this|last)[ \t]{{1,3}}month\b", re.I)),
    ("month_only", re.compile(
        r"\b(?P<qual>(?:in|during|since)[ \t]{1,3}(?:(?:early|mid|late)[ \t-]{1,3})?|(?:early|mid|late)[ \t-]{1,3}"
        rf"|(?:the[ \t]{{1,3}})?(?:start|beginning|middle|end)[ \t]{{1,3}}of[ \t]{{1,3}})?{_MONTH}{_YEAR}", re.I)),
    ("weekday", re.compile(rf"\b(?P<qual>last|this[ \t]{{1,3}}past|this|on)[ \t]{{1,3}}{_WEEKDAY}\b"
                           rf"(?!,?[ \t]{{1,3}}(?:the[ \t]{{1,3}})?(?:\d|{_MONTH}))", re.I)),
    ("relative", re.compile(r"\b(?:yesterday|last[ \t]{1,3}week|(?P<num>\d{1,2}|a|one|two|three|four)[ \t]{1,3}"
                            r"(?P<unit>days?|weeks?)[ \t]{1,3}ago)\b", re.I)),
)
_RELATIVE_KINDS = ("weekday", "relative", "this_month")
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    date: dt.date
    text: str
    approximate: bool
    how: str
    in_range: bool


def _month_number(word: str) -> int:
    if word.isdigit():
        return int(word)
    return next(i for i, name in enumerate(MONTHS, 1) if name.lower().startswith(word.lower()[:3]))


def _most_recent(month: int, day: int, sent: dt.date) -> dt.date | None:
    for year in range(sent.year, sent.year - 8, -1):
        try:
            found = dt.date(year, month, day)
        except ValueError:
            continue
        if found <= sent:
            return found
    return None


def _resolve(kind: str, m: re.Match[str], sent: dt.date) -> tuple[dt.date | None, bool, str]:
    """The date one match stands for, whether it is approximate, and how it was read."""
    g = m.groupdict()
    if kind == "weekday":
        back = (sent.weekday() - WEEKDAYS.index(g["weekday"].title())) % 7
        if back == 0 and g["qual"].lower() != "this":
            back = 7
        found = sent - dt.timedelta(days=back)
        return found, True, f"the most recent {WEEKDAYS[found.weekday()]} before the email was sent"
    if kind == "relative":
        said = " ".join(m.group(0).lower().split())
        if said == "yesterday":
            return sent - dt.timedelta(days=1), True, "the day before the email was sent"
        if said.startswith("last"):
            return (sent - dt.timedelta(days=sent.weekday() + 7), True,
                    "the Monday of the week before the email was sent")
        count = int(g["num"]) if g["num"].isdigit() else _NUMBERS[g["num"].lower()]
        days = count * (7 if g["unit"].lower().startswith("week") else 1)
        return sent - dt.timedelta(days=days), True, "counted back from the day the email was sent"
    if kind == "this_month":
        first = sent.replace(day=1)
        if g["which"].lower() == "last":
            first = add_months(first, -1)
        return first.replace(day=int(g["day"])), True, "counted from the month the email was sent in"
    month = _month_number(g["month"])
    year = g.get("year")
    if kind == "month_only":
        if not (g["qual"] or year):
            return None, True, ""  # a bare month name ("May", "June") is too often not a date
        found = dt.date(int(year), month, 1) if year else _most_recent(month, 1, sent)
        return found, True, "the first day of the month, because only the month is given"
    if year:
        found = dt.date(int(year) + (2000 if len(year) == 2 else 0), month, int(g["day"]))
        return found, False, "day first" if kind == "numeric" else "year-month-day" if kind == "iso" else ""
    found = _most_recent(month, int(g["day"]), sent)
    wd = g.get("wd")
    if found is not None and wd and WEEKDAYS[found.weekday()].lower().startswith(wd.lower()):
        return found, False, f"the most recent such date on or before the day the email was sent, a {wd.title()}"
    return found, True, "the most recent such date on or before the day the email was sent"


def find_mentions(body: str, sent: dt.date, relative: bool = True) -> list[DateMention]:
    """Every date in body, in order; in_range is False for future dates and very old ones."""
    taken = bytearray(len(body))  # characters already read as part of a date (linear, unlike a list)
    found = []
    oldest = add_months(sent, -OLDEST_MONTHS)
    for kind, pattern in _PATTERNS:
        if kind in _RELATIVE_KINDS and not relative:
            continue
        for m in pattern.finditer(body):
            if any(taken[m.start(): m.end()]):
                continue
            try:
                date, approximate, how = _resolve(kind, m, sent)
            except ValueError:  # "31/02/2026", "in June 0000": not a date, and never a crash
                continue
            if date is None:
                continue
            taken[m.start(): m.end()] = b"\x01" * (m.end() - m.start())
            words = m.group(0).strip().rstrip(".")
            found.append(DateMention(m.start(), m.end(), date, words, approximate, how,
                                    oldest <= date <= sent))  # never a future date: the letter has been sent
    found.sort(key=lambda c: c.start)
    return found

