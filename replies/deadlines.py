"""Decision-letter dates -> mediation and tribunal deadlines (DOMAIN.md section 7); pure, no I/O.

find_decision_date() and find_certificate_date() read a date out of an email's new text;
compute_deadlines() counts the mediation-adviser and appeal deadlines from it and says in plain
English how each was counted. Nothing here guesses: no plausible date means None, and the rule is
then stated in words without any date (rule 8). Dates are UK day-first.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import holidays
from dateutil.relativedelta import relativedelta

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NEAR_DAYS = 10
# A decision older than this cannot usefully start a deadline; old dates are usually a birth date.
OLDEST_MONTHS = 36


@dataclass(frozen=True)
class FoundDate:
    """A date read from an email: the date, the words it came from, and how it was read."""

    date: dt.date
    text: str
    approximate: bool
    rule: str


@dataclass(frozen=True)
class Deadlines:
    """The deadlines counted from a decision letter, how they were counted, and flags for review."""

    mediation_contact_by: dt.date | None
    mediation_contact_advice_by: dt.date | None
    appeal_by: dt.date | None
    rule_text: str
    passed: bool = False
    near: bool = False


# --- calendar -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _bank_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(d: dt.date) -> bool:
    """True for Monday to Friday except England and Wales bank holidays."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_working_day(d: dt.date) -> dt.date:
    """The first working day after d."""
    d += dt.timedelta(days=1)
    while not is_working_day(d):
        d += dt.timedelta(days=1)
    return d


def previous_working_day(d: dt.date) -> dt.date:
    """The last working day before d."""
    d -= dt.timedelta(days=1)
    while not is_working_day(d):
        d -= dt.timedelta(days=1)
    return d


def add_working_days(d: dt.date, n: int) -> dt.date:
    """The nth working day after d, counting from the day after d (rule 5)."""
    if n < 0:
        raise ValueError(f"add_working_days counts forwards only, got n={n}")
    for _ in range(n):
        d = next_working_day(d)
    return d


def add_months(d: dt.date, n: int) -> dt.date:
    """The same day-number n months later, or that month's last day if it is shorter."""
    return d + relativedelta(months=n)


def _long(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _day(d: dt.date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {_long(d)}"


def _why_not_working(d: dt.date) -> str:
    if d.weekday() >= 5:
        return f"a {WEEKDAYS[d.weekday()]}"
    return f"a bank holiday ({_bank_holidays(d.year)[d]})"


def _clip_note(start: dt.date, end: dt.date) -> str:
    if start.day == end.day:
        return ""
    return f" (that month has no day {start.day}, so its last day)"


# --- deadlines ------------------------------------------------------------------------------

_NO_DATE_TEXT = (
    "We could not find the date of the decision letter, so no deadline has been worked out. The rule: "
    "contact the mediation adviser within 2 months after the decision letter was sent; the tribunal must "
    "receive an appeal by 5pm within 2 months of the letter, or within 1 month of the mediation "
    "certificate if that is later. A deadline on a weekend or bank holiday moves to the next working "
    "day; one from Christmas Day to New Year's Day moves to the first working day after New Year's Day, "
    "and one in August to the first working day in September. Please send us the date printed on the "
    "decision letter, or a copy of it."
)


def _appeal_day(a: dt.date) -> tuple[dt.date, str]:
    """Apply HESC Rules r.12 to an appeal deadline: the day and why it moved ('' if it did not)."""
    if (a.month, a.day) >= (12, 25) or (a.month, a.day) == (1, 1):
        year = a.year + 1 if a.month == 12 else a.year
        return (next_working_day(dt.date(year, 1, 1)),
                "which falls between 25 December and 1 January, so it moves to the first working day "
                "after 1 January")
    if a.month == 8:
        return (next_working_day(dt.date(a.year, 8, 31)),
                "which falls in August, so it moves to the first working day after 31 August")
    if is_working_day(a):
        return a, ""
    return next_working_day(a), f"moved to the next working day because {_long(a)} is {_why_not_working(a)}"


def compute_deadlines(decision: dt.date | None, certificate: dt.date | None = None,
                      today: dt.date | None = None) -> Deadlines:
    """Mediation-contact and appeal deadlines from the decision (and certificate) dates, by rules 3-4."""
    if decision is None:
        return Deadlines(None, None, None, _NO_DATE_TEXT)
    contact = add_months(decision, 2)
    letter = f"the decision letter dated {_long(decision)}"
    mediation = (f"Mediation adviser: contact within 2 months after {letter}, that is by "
                 f"{_long(contact)}{_clip_note(decision, contact)}")
    advice = contact
    if not is_working_day(contact):
        advice = previous_working_day(contact)
        mediation += (f"; that is {_why_not_working(contact)}, so we advise contacting the adviser "
                      f"by {_day(advice)}")
    sentences = [mediation + "."]

    appeal = contact
    basis = f"2 months from {letter} is {_long(contact)}{_clip_note(decision, contact)}"
    if certificate is not None:
        from_cert = add_months(certificate, 1)
        cert = f"the mediation certificate issued on {_long(certificate)}"
        if from_cert > contact:
            appeal = from_cert
            basis = (f"1 month from {cert} is {_long(from_cert)}{_clip_note(certificate, from_cert)}, "
                     f"which is later than 2 months from {letter} ({_long(contact)})")
        else:
            basis += f", which is not earlier than 1 month from {cert} ({_long(from_cert)})"
    appeal_by, moved = _appeal_day(appeal)
    sentences.append(f"Appeal deadline: {basis}{', ' + moved if moved else ''}. "
                     f"The tribunal must receive the appeal by 5pm on {_day(appeal_by)}.")

    passed = near = False
    if today is not None:
        passed = today > appeal_by
        # Without a certificate the first thing to do is contact the adviser, so that date drives it.
        first = appeal_by if certificate is not None else advice
        near = not passed and (first - today).days <= NEAR_DAYS
    return Deadlines(contact, advice, appeal_by, " ".join(sentences), passed, near)


# --- reading dates from text ----------------------------------------------------------------

_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4})\b)?"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_PATTERNS = (  # in priority order: a later match overlapping an earlier one is dropped
    ("iso", re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")),
    ("numeric", re.compile(r"\b(?P<day>\d{1,2})([/.])(?P<month>\d{1,2})\2(?P<year>\d{4}|\d{2})\b")),
    ("named", re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}{_YEAR}", re.I)),
    ("named", re.compile(rf"\b{_MONTH}\s+{_DAY}\b{_YEAR}", re.I)),
    ("this_month", re.compile(rf"\b{_DAY}\s+of\s+(?P<which>this|last)\s+month\b", re.I)),
    ("month_only", re.compile(
        rf"\b(?P<qual>(?:in|during|since)\s+(?:(?:early|mid|late)[\s-]+)?|(?:early|mid|late)[\s-]+"
        rf"|(?:the\s+)?(?:start|beginning|middle|end)\s+of\s+)?{_MONTH}{_YEAR}", re.I)),
    ("weekday", re.compile(rf"\b(?P<qual>last|this\s+past|this|on)\s+{_WEEKDAY}\b"
                           rf"(?!,?\s+(?:the\s+)?(?:\d|{_MONTH}))", re.I)),
    ("relative", re.compile(r"\b(?:yesterday|last\s+week|(?P<num>\d{1,2}|a|one|two|three|four)\s+"
                            r"(?P<unit>days?|weeks?)\s+ago)\b", re.I)),
)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_QUOTE_START = re.compile(r"^(?:on\b[^\n]*\d[^\n]*(?:\n[^\n]*)?\bwrote:\s*$|-{2,}\s*original message"
                          r"\s*-{2,}|_{8,}\s*$|from:[^\n]*\n\s*sent:)", re.I | re.M)
_CLAUSE_END = re.compile(r"(?<!\b[a-z])\.(?=\s)|[!?;]|\n\s*\n", re.I)
_AFTER_STOP = re.compile(r"\b(?:about|regarding|concerning|re|because|and|but|so)\b|[()]")


def _words(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b")


# Cue words in two tiers, each a (wanted, unwanted) pair: nouns say what a date belongs to and beat
# verbs, so "the certificate was issued on" is not read as the decision letter's "issued".
_NEG_NOUNS = (r"d\.?o\.?b", "date of birth", "birthday", "meetings?", "review", "hearing", "appointment",
              "visit", "calls?", "request", "application", "deadline", "email")
_NEG_VERBS = _words("born", "asked", "applied", "requested", "phoned", "called", "rang", "spoke", "meet",
                    "met", "visited", "emailed", "attended", "due", "expires?", "starts?")
_DECISION = (
    (_words("letters?", "decisions?", "final plan", "amended plan", "ehc ?plan", "ehcp", "notice",
            r"refus\w*"),
     _words("certificate", "mediation", *_NEG_NOUNS)),
    (_words("dated", "issued", "sent", "received", "decided", r"finali[sz]ed", "wrote", "arrived", "came"),
     _NEG_VERBS),
)
_CERTIFICATE = (
    (_words("certificates?"), _words("letters?", "decisions?", "plan", "ehcp", r"refus\w*", *_NEG_NOUNS)),
    (_words("(?!)"), _NEG_VERBS),
)
_Cues = tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    date: dt.date
    text: str
    approximate: bool
    how: str


def _new_text(text: str) -> str:
    quote = _QUOTE_START.search(text)
    if quote:
        text = text[: quote.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


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
        said = m.group(0).lower()
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
    return (_most_recent(month, int(g["day"]), sent), False,
            "the most recent such date on or before the day the email was sent")


def _candidates(body: str, sent: dt.date) -> list[_Candidate]:
    taken: list[tuple[int, int]] = []
    found = []
    oldest = add_months(sent, -OLDEST_MONTHS)
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(body):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            try:
                date, approximate, how = _resolve(kind, m, sent)
            except ValueError:  # "31/02/2026", "in June 0000": not a date, and never a crash
                continue
            if date is None:
                continue
            taken.append(m.span())
            if oldest <= date <= sent:  # never a future date: a decision letter has been sent
                words = m.group(0).strip().rstrip(".")
                found.append(_Candidate(m.start(), m.end(), date, words, approximate, how))
    return found


def _label(body: str, c: _Candidate, cues: _Cues) -> str:
    """'pos', 'neg' or '' from the nearest cue word: in the clause before, else just after."""
    before = body[max(0, c.start - 150): c.start].lower()
    before = before[max((e.end() for e in _CLAUSE_END.finditer(before)), default=0):]
    for pos, neg in cues:
        hits = [(m.end(), label) for pattern, label in ((pos, "pos"), (neg, "neg"))
                for m in pattern.finditer(before)]
        if hits:
            return max(hits)[1]
    after = body[c.end: c.end + 40].lower()
    stops = [m.start() for p in (_CLAUSE_END, _AFTER_STOP) for m in p.finditer(after)]
    after = after[: min(stops, default=len(after))]
    hits = [(m.start(), label) for pair in cues for pattern, label in zip(pair, ("pos", "neg"))
            for m in pattern.finditer(after)]
    return min(hits)[1] if hits else ""


def _pick(text: str, sent: dt.date, cues: _Cues, what: str, lone_neutral: bool) -> FoundDate | None:
    body = _new_text(text)
    candidates = _candidates(body, sent)
    labels = [_label(body, c, cues) for c in candidates]
    wanted = [c for c, label in zip(candidates, labels) if label == "pos"]
    note, unsure = "", False
    if not wanted and lone_neutral and cues[0][0].search(body.lower()):
        # No date sits by decision words, but the message is about a decision: one plain date, and only
        # one, is taken as the letter's date, marked approximate so a person checks it.
        neutral = [c for c, label in zip(candidates, labels) if label == "" and not c.approximate]
        if len({c.date for c in neutral}) == 1:
            wanted, unsure = neutral, True
            note = f", taken as the {what} because it is the only plain date in a message about a decision"
    if not wanted:
        return None
    # An exact date beats a vague one ("in August", "last week") for the same letter.
    wanted = [c for c in wanted if not c.approximate] or wanted
    best = min(wanted, key=lambda c: (c.date, c.start))
    dates = len({c.date for c in wanted})
    if dates > 1:
        note += f", the earliest of {dates} dates given for the {what}"
    how = f", {best.how}" if best.how else ""
    return FoundDate(best.date, best.text, best.approximate or unsure,
                     f"Read '{best.text}' as {_long(best.date)}{how}{note}.")


def find_decision_date(text: str, sent: dt.date) -> FoundDate | None:
    """The decision letter's date in an email's new text (earliest if several), or None (rules 1, 8)."""
    return _pick(text, sent, _DECISION, "decision letter", lone_neutral=True)


def find_certificate_date(text: str, sent: dt.date) -> FoundDate | None:
    """The mediation certificate's issue date when stated next to the word 'certificate', or None."""
    return _pick(text, sent, _CERTIFICATE, "mediation certificate", lone_neutral=False)
