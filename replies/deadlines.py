"""Decision-letter dates -> mediation and tribunal deadlines (DOMAIN.md section 7); pure, no I/O.

find_decision_date() and find_certificate_date() read a date out of an email's new text;
compute_deadlines() counts the mediation-adviser and appeal deadlines from it and says in plain
English how each was counted. Nothing here guesses: no plausible date means None, and the rule is
then stated in words without any date (rule 8). Dates are UK day-first.
"""

from __future__ import annotations

import datetime as dt
import bisect
import functools
import re
from dataclasses import dataclass
from typing import Sequence

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
    source: str = "message"  # 'message', 'our_email' or 'attachment'


@dataclass(frozen=True)
class Deadlines:
    """The deadlines counted from a decision letter, how they were counted, and flags for review.

    Judged on `today` (None: not judged). `passed` and `near` are about the appeal (the last date
    to act by); `adviser_passed` says the mediation adviser's 2 months are over. With a certificate
    the adviser step is done, so only the appeal counts. `appeal_from` says which rule set the
    appeal date ("decision": 2 months from the letter; "certificate": 1 month from the certificate,
    because that is later) and `appeal_moved` why it moved, in a few words ('' if it did not).
    """

    mediation_contact_by: dt.date | None
    mediation_contact_advice_by: dt.date | None
    appeal_by: dt.date | None
    rule_text: str
    passed: bool = False
    near: bool = False
    certificate: dt.date | None = None
    today: dt.date | None = None
    adviser_passed: bool = False
    appeal_from: str = "decision"
    appeal_moved: str = ""
    decision: dt.date | None = None

    @property
    def certificate_held(self) -> bool:
        return self.certificate is not None

    @property
    def to_act_on(self) -> tuple[str, dt.date] | None:
        """The earliest deadline still to act on ('adviser' or 'appeal', and its date); once every
        one has passed, the appeal's (the last chance). None when no date is known."""
        if self.appeal_by is None:
            return None
        if not self.certificate_held and self.mediation_contact_advice_by and not self.adviser_passed:
            return "adviser", self.mediation_contact_advice_by
        return "appeal", self.appeal_by

    @property
    def statutory_deadline(self) -> dt.date | None:
        """The date the queue sorts by and shows: that of `to_act_on`."""
        found = self.to_act_on
        return found[1] if found else None

    @property
    def any_passed(self) -> bool:
        """Whether a date the parent had to act by is behind them (the draft must say what to do now)."""
        return self.passed or self.adviser_passed

    def state(self) -> dict[str, object]:
        """What a draft's wording depends on, to tell later whether it still holds (see judge())."""
        return {"adviser_passed": self.adviser_passed, "appeal_passed": self.passed,
                "mediation_contact_by": _iso(self.mediation_contact_advice_by), "appeal_by": _iso(self.appeal_by)}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


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


def _appeal_day(a: dt.date) -> tuple[dt.date, str, str]:
    """Apply HESC Rules r.12 to an appeal deadline: the day, why it moved ('' if it did not), and the
    same in a few plain words for a parent."""
    if (a.month, a.day) >= (12, 25) or (a.month, a.day) == (1, 1):
        year = a.year + 1 if a.month == 12 else a.year
        return (next_working_day(dt.date(year, 1, 1)),
                "which falls between 25 December and 1 January, so it moves to the first working day "
                "after 1 January", "falls over Christmas and New Year")
    if a.month == 8:
        return (next_working_day(dt.date(a.year, 8, 31)),
                "which falls in August, so it moves to the first working day after 31 August", "falls in August")
    if is_working_day(a):
        return a, "", ""
    return (next_working_day(a), f"moved to the next working day because {_long(a)} is {_why_not_working(a)}",
            f"is {_why_not_working(a)}")


def compute_deadlines(decision: dt.date | None, certificate: dt.date | None = None,
                      today: dt.date | None = None) -> Deadlines:
    """Mediation-contact and appeal deadlines from the decision (and certificate) dates, by rules 3-4."""
    if decision is None:
        return Deadlines(None, None, None, _NO_DATE_TEXT, certificate=certificate, today=today)
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
    appeal_by, moved, moved_plain = _appeal_day(appeal)
    sentences.append(f"Appeal deadline: {basis}{', ' + moved if moved else ''}. "
                     f"The tribunal must receive the appeal by 5pm on {_day(appeal_by)}.")

    passed = near = adviser_passed = False
    if today is not None:
        passed = today > appeal_by
        adviser_passed = certificate is None and today > contact
        # Without a certificate the first thing to do is contact the adviser, so that date drives it.
        first = appeal_by if certificate is not None else advice
        near = not passed and (first - today).days <= NEAR_DAYS
    return Deadlines(contact, advice, appeal_by, " ".join(sentences), passed, near, certificate=certificate, decision=decision,
                     today=today, adviser_passed=adviser_passed,
                     appeal_from="certificate" if appeal != contact else "decision", appeal_moved=moved_plain)


def judge(meta: dict, today: dt.date) -> Deadlines | None:
    """The deadlines of a draft's stored dates (its `meta`, see triage.pipeline) judged on `today`:
    the same counting as at drafting time, on the day they are used. None when the draft stated none."""
    if not meta or "decision" not in meta:
        return None
    decision, certificate = meta.get("decision"), meta.get("certificate")
    day = lambda found: dt.date.fromisoformat(found["date"]) if found else None  # noqa: E731
    return compute_deadlines(day(decision), day(certificate), today=today)


def changed_since_drafted(meta: dict, now: Deadlines | None) -> str:
    """Why a draft's deadline wording no longer holds today, in one line ('' if it still holds)."""
    if now is None or not meta or "state" not in meta:
        return ""
    then = meta["state"]
    current = now.state()
    if current["appeal_passed"] and not then.get("appeal_passed"):
        return f"the appeal deadline ({_long(now.appeal_by)}) has passed since the draft was written"
    if current["adviser_passed"] and not then.get("adviser_passed"):
        return (f"the date to contact the mediation adviser ({_long(now.mediation_contact_by)}) has passed "
                f"since the draft was written")
    for key, words in (("mediation_contact_by", "mediation adviser"), ("appeal_by", "appeal")):
        if current[key] != then.get(key):
            return f"the {words} deadline has changed since the draft was written"
    return ""


# --- reading dates from text ----------------------------------------------------------------
#
# The body is cut into parts: the writer's new text ("message"), our own quoted emails ("our_email")
# and other people's quoted text (never read). Every date in a part is labelled by the words around
# it: only a date tied to the council's decision letter (or certificate, for C) is kept. Attached
# documents are read only when one is the council's letter (or the certificate) itself: its own date.
# Every pattern has bounded repetition and every window is a bounded slice, so reading is linear.

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
_CASE_REF = re.compile(r"\bEHC-\d{6}-[A-Z0-9]{5}\b")
_CLAUSE_END = re.compile(r"(?<!\b[a-z])\.(?=\s)|[!?;]|\n[ \t>]*\n")
_PARAGRAPH_END = re.compile(r"\n[ \t>]*\n")
# A new clause inside a sentence: what came before it does not govern a date after it.
_SOFT_END = re.compile(r"[,\s](?:but|and|whereas|while|although|though|however|which|because|so|then)\b", re.I)
_WEBMAIL = ("gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "outlook.com", "live.co.uk",
            "yahoo.com", "yahoo.co.uk", "icloud.com", "btinternet.com", "aol.com")
LOCAL = 150  # characters of a date's own clause looked at before it
LOOKBACK = 300  # how far back a bare "it arrived on" or "dated" looks for the letter it means
AFTER = 90  # characters after a date looked at when nothing before it says what it is


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# Who and what. Words with a '{1}' or '{2}' mean the writer (first person) and the reader (second person);
# in our own emails the council is the writer, so the roles swap.
_FIRST = r"(?:i|we|i've|we've|i'd|we'd|i\s{1,3}have|we\s{1,3}have|i\s{1,3}had|we\s{1,3}had|myself)"
_SECOND = r"(?:you|you've|you\s{1,3}have|you\s{1,3}had|your\s{1,3}(?:team|office|officer|colleague|caseworker))"
_ADVERB = r"(?:\s{1,3}(?:also|then|first|finally|already|only|just|again|eventually|even|actually|both))?"
_COUNCIL = (r"(?:the\s{1,3})?(?:council|la|lea|local\s{1,3}authority|authority|sen\w{0,2}\s{1,3}team|ehc\w?"
            r"\s{1,3}team|assessment\s{1,3}team|send\s{1,3}service|caseworker|case\s{1,3}officer)")
_PARTY = _alt(r"(?:mediation\s{1,3})?advis[eo]r", "mediator", r"mediation\s{1,3}service", "prime\\s{1,3}resolution",
              "solicitors?", "lawyers?", "barrister", "advocate", "school", r"head\s{0,3}teacher", "senco",
              "teachers?", "college", "nursery", "tribunal", "judge", r"send?iass?", "iass", "ipsea", "sossen",
              "gp", "doctor", "consultant", "paediatrician", "camhs", "nhs", "icb", "therapist", "ep", "salt",
              "ot", r"(?:educational\s{1,3})?psychologist", r"social\s{1,3}worker", r"health\s{1,3}visitor",
              "mp", "ombudsman", "lgsco", "ofsted", "advice\\s{1,3}line", "charity")
_WRITE = r"(?:wrote|written|sent|issued|decided|refused|finali[sz]ed|posted|confirmed\s{1,3}in\s{1,3}writing)"
_CONTACT = (r"(?:phoned|called|rang|spoke|spoken|visited|met|emailed|e-mailed|asked|requested|applied|submitted|"
            r"replied|responded|chased|complained|attended|went|told|contacted|commented|messaged|texted|"
            r"handed|returned|signed|gave|made)")
_PAPER = r"(?:letters?|emails?|e-mails?|requests?|calls?|complaints?|replies|reply|responses?|applications?|messages?)"

# labels: +1 tied to the wanted document, -1 tied to something else, 0 a linking word ("dated", "arrived")
# whose meaning comes from the nearest document word. Strong cues ("I phoned", "until") decide on their own.
_LINK = re.compile(r"\b(?:dated|issued|sent|received|receive|got|arrived|came|posted|delivered|written|printed|"
                   r"finali[sz]ed|landed|opened|turned\s{1,3}up|on\s{1,3}it\s{1,3}is)\b", re.I)
_STRONG_NEG_ANY = (r"deadlines?|due|supposed\s{1,3}to|should\s{1,3}have|must|ought|has\s{1,3}to|have\s{1,3}to|"
                   r"had\s{1,3}to|needs?\s{1,3}to|time\s{1,3}limit|gives?\s{1,3}(?:me|us)|takes?\s{1,3}(?:me|us)|"
                   r"leaves?\s{1,3}(?:me|us)|means|expir\w{0,3}|runs?\s{1,3}out|ran\s{1,3}out|no\s{1,3}later|"
                   r"within|would|will|going\s{1,3}to|next|expected|hoped|planned|listed|booked|scheduled")
_STRONG_NEG = re.compile(rf"\b(?:{_STRONG_NEG_ANY})\b", re.I)
_IMMEDIATE_NEG = re.compile(r"\b(?:by|until|till|til|before|after|from|around|about|approximately|since)"
                            r"(?:\s{1,3}(?:the|on|around))?\s{0,3}$", re.I)
_ACT_NEG_COMMON = (
    rf"\b{_PARTY}(?:'s|s')?(?:\s{{1,3}}\w+){{0,2}}\s{{1,3}}(?:{_WRITE}|{_CONTACT}|said|says|confirmed|ordered|"
    r"heard|held|listed|registered|replied|rang)\b",
    r"\b(?:born|met|meet|attended|visited|took\s{1,3}place|was\s{1,3}held|held)\b",
)
_NOUN_NEG_COMMON = (
    r"\bd\.?o\.?b\b", r"\bdate\s{1,3}of\s{1,3}birth\b", r"\bbirthdays?\b", r"\bmeetings?\b", r"\breviews?\b",
    r"\bhearings?\b", r"\bpanel\b", r"\bappointments?\b", r"\bvisits?\b", r"\bminutes\b", r"\breports?\b",
    r"\bdraft(?:\s{1,3}\w+){0,2}\s{1,3}(?:plan|ehcp|letter)\b", r"\bdrafts?\b", r"\badvices?\b",
    r"\backnowledg\w{0,6}(?:\s{1,3}letter)?\b", r"\bconsultations?\b", r"\bcomplaints?\b",
    r"\b(?:ep|salt|ot|psychology|psychologist'?s?|speech(?:\s{1,3}and\s{1,3}language)?|occupational\s{1,3}"
    r"therap\w{0,3}|medical|health|paediatric\w{0,3}|cognitive|sensory|therapy)\s{1,3}(?:assessment|report|"
    r"advice|visit|observation)s?\b",
    rf"\b{_PARTY}(?:'s|s')(?:\s{{1,3}}\w+){{0,2}}\b",
    rf"\b(?:letters?|emails?|notes?|reports?|docs?|documents?|advice)\s{{1,3}}from\s{{1,3}}(?:the\s{{1,3}}|my\s{{1,3}}"
    rf"|our\s{{1,3}}|his\s{{1,3}}|her\s{{1,3}}|their\s{{1,3}})?{_PARTY}\b",
    rf"\b{_PARTY}\s{{1,3}}(?:letter|email|decision|order|judgment|decision\s{{1,3}}notice)\b",
    r"\btribunal(?:'s)?\s{1,3}(?:\w+\s{1,3})?(?:decision|order|judgment)\b",
)
_DECISION_NOUNS = (
    r"\b(?:decision|refusal|outcome|notification)(?:\s{1,3}(?:letter|notice|email))?\b",
    r"\b(?:the\s{1,3})?letters?\b", r"\bnotice\b", r"\brefus\w{0,5}\b",
    r"\b(?:final|amended|finalised|finalized|new|issued)(?:\s{1,3}(?:amended|final))?\s{1,3}(?:ehc\s{0,3}p?|"
    r"education,?\s{1,3}health\s{1,3}and\s{1,3}care\s{1,3})?plan\b",
    r"\b(?:final|amended)\s{1,3}ehcp\b", r"\behcp\b", r"\behc\s{1,3}plan\b", r"\bplan\b",
    rf"\b{_COUNCIL}(?:'s|s')\s{{1,3}}(?:\w+\s{{1,3}}){{0,2}}(?:letter|decision|notice)\b",
    rf"\b(?:letter|decision|notice)\s{{1,3}}from\s{{1,3}}(?:you|{_COUNCIL})\b",
)
_CERT_NOUNS = (r"\b(?:mediation\s{1,3})?certificate\b", r"\bcert\b")


def _cues(perspective: str, wanted: str) -> tuple[tuple[re.Pattern[str], int], ...]:
    """(pattern, label) pairs for one point of view ('parent' or 'council') and one document ('D' or 'C')."""
    me, you = (_FIRST, _SECOND) if perspective == "parent" else (_SECOND, _FIRST)
    my, your = (r"(?:my|our)", r"your") if perspective == "parent" else (r"your", r"(?:my|our)")
    strong: list[tuple[str, int]] = [
        (rf"\b{me}{_ADVERB}\s{{1,3}}(?:{_WRITE}|{_CONTACT})\b", -1),  # the writer's own letters and calls
        (rf"\b{you}{_ADVERB}\s{{1,3}}{_CONTACT}\b", -1),  # the council's calls and meetings are no letter
        *((p, -1) for p in _ACT_NEG_COMMON),
    ]
    nouns: list[tuple[str, int]] = [*((p, -1) for p in _NOUN_NEG_COMMON)]
    if wanted == "D":
        strong += [(rf"\b{you}{_ADVERB}\s{{1,3}}{_WRITE}\b", 1),
                   (rf"\b{_COUNCIL}{_ADVERB}\s{{1,3}}(?:has\s{{1,3}}|have\s{{1,3}})?{_WRITE}\b", 1)]
        nouns += [*((p, 1) for p in _DECISION_NOUNS),
                  (rf"\b{your}\s{{1,3}}(?:\w+\s{{1,3}})?(?:letter|decision|refusal|notice)\b", 1),
                  (rf"\b{my}\s{{1,3}}(?:own\s{{1,3}})?{_PAPER}\b", -1),
                  (rf"\b{your}\s{{1,3}}(?:emails?|e-mails?|requests?|calls?|messages?)\b",
                   -1 if perspective == "council" else 0),
                  (r"\b(?:mediation\s{1,3})?certificate\b", -1), (r"\bmediation\b", -1)]
    else:
        nouns += [*((p, 1) for p in _CERT_NOUNS),
                  (r"\b(?:decision|refusal)(?:\s{1,3}letter)?\b", -1), (r"\bletters?\b", -1), (r"\bplan\b", -1),
                  (r"\bmediation(?!\s{1,3}certificate)\b", -1)]
    # Strong cues are checked first; nouns only through a link word or when no strong cue is nearer.
    # One alternation per label keeps the number of scans small; within one, longer phrases come first.
    groups: dict[int, list[str]] = {}
    for p, label in [(p, label * 2) for p, label in strong] + nouns:
        groups.setdefault(label, []).append(p)
    return tuple((re.compile("|".join(f"(?:{p})" for p in ps), re.I), label) for label, ps in groups.items())


_CUES = {(p, w): _cues(p, w) for p in ("parent", "council") for w in ("D", "C")}
_VETO_AFTER = re.compile(r"\W{0,3}(?:\w+\W{1,3}){0,3}?(?:acknowledg\w*|confirm\w*\s{1,3}receipt|enclos\w*\s{1,3}"
                         r"(?:the\s{1,3}|a\s{1,3})?draft|with\s{1,3}the\s{1,3}draft|invit\w*|asking\s{1,3}(?:for|me|us))",
                         re.I)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    date: dt.date
    text: str
    approximate: bool
    how: str
    in_range: bool


# --- splitting the body into new text, our quoted emails and others' quoted text ---

_QUOTE_PREFIX = re.compile(r"^(?:[ \t]{0,4}>)+")
_ON_WROTE = re.compile(r"^\s{0,4}on\b.{0,300}\bwrote:\s*$", re.I)
_ON_START = re.compile(r"^\s{0,4}on\s.{0,200}\d", re.I)
_WROTE_END = re.compile(r"\bwrote:\s*$", re.I)
_SEPARATOR = re.compile(r"^\s{0,4}(?:-{2,}\s{0,3}(?:original\s{1,3}message|forwarded\s{1,3}message)\s{0,3}-{2,}|"
                        r"_{8,}|begin\s{1,3}forwarded\s{1,3}message:?)\s*$", re.I)
_HEADER_FIELD = re.compile(r"^\s{0,4}(?:from|sent|date|to|cc|bcc|subject|reply-to|importance):", re.I)
_FROM_FIELD = re.compile(r"^\s{0,4}from:", re.I)
_ADDRESS = re.compile(r"[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63}){1,8})")


def _names_us(header: str, ours: Sequence[str]) -> bool:
    low = header.lower()
    for name in ours:
        name = name.strip().lower()
        if len(name) >= 4 and name in low:
            return True
        if "@" in name:
            domain = name.rsplit("@", 1)[1]
            if domain not in _WEBMAIL and any(m.group(1).lower() == domain for m in _ADDRESS.finditer(low)):
                return True
    return False


def _parts(text: str, ours: Sequence[str]) -> list[tuple[str, str]]:
    """(source, text) parts: 'message' (the writer's new text), 'our_email', or 'other' (not read)."""
    lines = text.split("\n")
    depth_of = []
    content = []
    for line in lines:
        m = _QUOTE_PREFIX.match(line)
        depth_of.append(m.group(0).count(">") if m else 0)
        content.append(line[m.end():] if m else line)
    # owner per quote depth: a block number, into blocks[] of (header text, [line indexes])
    blocks: list[tuple[list[str], list[int]]] = [([], [])]  # block 0: the new text
    owner: dict[int, int] = {}
    pending: tuple[int, int] | None = None  # (depth of the header, its block) until its first body line
    i, n = 0, len(lines)
    while i < n:
        depth, line = depth_of[i], content[i]
        header: list[str] = []
        if _ON_WROTE.match(line):
            header = [line]
        elif _ON_START.match(line) and i + 1 < n and depth_of[i + 1] == depth and _WROTE_END.search(content[i + 1]):
            header = [line, content[i + 1]]
        elif _SEPARATOR.match(line) or (_FROM_FIELD.match(line) and any(
                _HEADER_FIELD.match(content[j]) and not _FROM_FIELD.match(content[j])
                for j in range(i + 1, min(n, i + 3)))):
            header = [line]
            j = i + 1
            while j < n and j < i + 12 and (_HEADER_FIELD.match(content[j]) or
                                            (not content[j].strip() and j == i + 1 and _SEPARATOR.match(line))):
                header.append(content[j])
                j += 1
            header_len = j - i
        if header:
            blocks.append((header, []))
            pending = (depth, len(blocks) - 1)
            i += len(header) if not (_SEPARATOR.match(line) or _FROM_FIELD.match(line)) else header_len
            continue
        if pending is not None and line.strip():
            h_depth, block = pending
            for d in [d for d in owner if d >= h_depth]:
                del owner[d]
            owner[h_depth + 1 if depth > h_depth else h_depth] = block
            pending = None
        block = max(((d, b) for d, b in owner.items() if d <= depth), default=(0, 0))[1] if depth or owner else 0
        if depth and not any(d <= depth and d > 0 for d in owner) and not (0 in owner):
            block = -depth  # quoted lines with no header: someone's, we cannot tell whose
        blocks_index = block
        if blocks_index < 0:
            blocks.append((["(no header)"], [i]))
            owner[depth] = len(blocks) - 1
        else:
            blocks[blocks_index][1].append(i)
        i += 1
    parts = []
    for b, (header, indexes) in enumerate(blocks):
        if not indexes:
            continue
        body = "\n".join(content[k] for k in indexes)
        if b == 0:
            source = "message"
        else:
            head = "\n".join(header)
            foreign = bool(_ADDRESS.search(head)) and any("@" in o for o in ours)
            source = "our_email" if _names_us(head, ours) or (not foreign and _CASE_REF.search(body)) else "other"
        parts.append((source, body))
    return parts


# --- dates ---

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


def _candidates(body: str, sent: dt.date, relative: bool = True) -> list[_Candidate]:
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
            found.append(_Candidate(m.start(), m.end(), date, words, approximate, how,
                                    oldest <= date <= sent))  # never a future date: the letter has been sent
    found.sort(key=lambda c: c.start)
    return found


class _Index:
    """Every cue match in one part, found in one pass per pattern, so each date's look-up is a bisection.

    Matches of one pattern do not overlap, so their starts and ends both increase.
    """

    def __init__(self, body: str, patterns: dict[object, re.Pattern[str]], around: Sequence[_Candidate]):
        # Only the stretches a date's look-ups can reach are scanned (all of a body dense with dates).
        stretches: list[list[int]] = []
        for c in around:
            lo, hi = max(0, c.start - LOOKBACK), min(len(body), c.end + AFTER)
            if stretches and lo <= stretches[-1][1]:
                stretches[-1][1] = max(stretches[-1][1], hi)
            else:
                stretches.append([lo, hi])
        self.spans: dict[object, tuple[list[int], list[int]]] = {}
        for key, pattern in patterns.items():
            starts, ends = [], []
            for lo, hi in stretches:
                for m in pattern.finditer(body, lo, hi):
                    if not starts or m.start() >= ends[-1]:
                        starts.append(m.start())
                        ends.append(m.end())
            self.spans[key] = (starts, ends)

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


def _label(body: str, index: _Index, c: _Candidate, prev_end: int) -> int:
    """+1 if the text ties this date to the wanted document, otherwise 0 or -1."""
    lo = max(0, c.start - LOCAL, prev_end)
    hi = c.start
    clause = index.last("clause", lo, hi)
    if clause:
        lo = clause[1]
    soft = index.last("soft", lo, hi)
    if soft:
        lo = soft[1]
    if _IMMEDIATE_NEG.search(body, max(lo, hi - 40), hi):
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
    if noun[2] > 0 and _VETO_AFTER.match(body, c.end, c.end + AFTER):
        return -1  # "your letter of 20 August acknowledged my request"
    return 1 if noun[2] > 0 else -1


def _after(body: str, index: _Index, c: _Candidate) -> tuple[int, int, int] | None:
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


def _tied(body: str, sent: dt.date, cues, relative: bool) -> list[_Candidate]:
    """The dates in one part that its words tie to the wanted document."""
    candidates = [c for c in _candidates(body, sent, relative)]
    if not any(c.in_range for c in candidates):
        return []
    patterns: dict[object, re.Pattern[str]] = {label: pattern for pattern, label in cues}
    for label in _STRONG_LABELS + _NOUN_LABELS:
        patterns.setdefault(label, _NEVER)
    patterns.update(link=_LINK, deadline=_STRONG_NEG, clause=_CLAUSE_END, soft=_SOFT_END, para=_PARAGRAPH_END)
    index = _Index(body, patterns, [c for c in candidates if c.in_range])
    out = []
    prev_end = 0
    for c in candidates:
        if c.in_range and _label(body, index, c, prev_end) > 0:
            out.append(c)
        prev_end = c.end
    return out


_NEVER = re.compile(r"(?!)")


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


def _document_date(doc: str, sent: dt.date, wanted: str) -> _Candidate | None:
    """The date an attached document bears, when it is the council's letter (D) or the certificate (C)."""
    head = doc[:20000]
    if wanted == "D":
        if _NOT_COUNCIL.search(head) or not _DECIDED.search(head):
            return None
    elif not _IS_CERTIFICATE.search(head[:3000]):
        return None
    dear = _DEAR.search(head)
    top = head[: dear.start()] if dear else head[:1500]
    candidates = [c for c in _candidates(top, sent, relative=False) if c.in_range]
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


def _pick(text: str, sent: dt.date, attachments: Sequence[str], ours: Sequence[str], wanted: str,
          what: str) -> FoundDate | None:
    found: list[tuple[str, _Candidate]] = []
    for source, body in _parts(text or "", ours):
        if source == "other":
            continue  # other people's words, or ours we cannot recognise: never read
        perspective = "council" if source == "our_email" else "parent"
        found += [(source, c) for c in _tied(body, sent, _CUES[(perspective, wanted)], source == "message")]
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
                     f"Read '{best.text}' as {_long(best.date)}{how}{note}.", source=best_source)


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
