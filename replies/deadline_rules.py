"""The mediation-adviser and tribunal-appeal deadlines counted from a decision letter (DOMAIN.md
section 7 rules 3-5); pure, no I/O.

compute_deadlines() counts 2 months from the letter (1 from a later mediation certificate), moves an
appeal deadline by HESC Rules r.12 (weekends, bank holidays, Christmas to New Year, August) and says in
plain English how each date was counted. Without a decision date the rule is stated in words without
any date (rule 8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .working_days import (
    add_months,
    is_working_day,
    long_date,
    next_working_day,
    previous_working_day,
    weekday_date,
    why_not_working,
)

NEAR_DAYS = 10


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
    return (next_working_day(a), f"moved to the next working day because {long_date(a)} is {why_not_working(a)}",
            f"is {why_not_working(a)}")


def compute_deadlines(decision: dt.date | None, certificate: dt.date | None = None,
                      today: dt.date | None = None) -> Deadlines:
    """Mediation-contact and appeal deadlines from the decision (and certificate) dates, by rules 3-4."""
    if decision is None:
        return Deadlines(None, None, None, _NO_DATE_TEXT, certificate=certificate, today=today)
    contact = add_months(decision, 2)
    letter = f"the decision letter dated {long_date(decision)}"
    mediation = (f"Mediation adviser: contact within 2 months after {letter}, that is by "
                 f"{long_date(contact)}{_clip_note(decision, contact)}")
    advice = contact
    if not is_working_day(contact):
        advice = previous_working_day(contact)
        mediation += (f"; that is {why_not_working(contact)}, so we advise contacting the adviser "
                      f"by {weekday_date(advice)}")
    sentences = [mediation + "."]

    appeal = contact
    basis = f"2 months from {letter} is {long_date(contact)}{_clip_note(decision, contact)}"
    if certificate is not None:
        from_cert = add_months(certificate, 1)
        cert = f"the mediation certificate issued on {long_date(certificate)}"
        if from_cert > contact:
            appeal = from_cert
            basis = (f"1 month from {cert} is {long_date(from_cert)}{_clip_note(certificate, from_cert)}, "
                     f"which is later than 2 months from {letter} ({long_date(contact)})")
        else:
            basis += f", which is not earlier than 1 month from {cert} ({long_date(from_cert)})"
    appeal_by, moved, moved_plain = _appeal_day(appeal)
    sentences.append(f"Appeal deadline: {basis}{', ' + moved if moved else ''}. "
                     f"The tribunal must receive the appeal by 5pm on {weekday_date(appeal_by)}.")

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

