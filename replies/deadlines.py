"""A draft's deadlines judged again on the day they are used (at review and at approval); pure, no I/O.

A draft stores the dates it was written from (see triage.route_drafts); judge() counts them again on
the day, and changed_since_drafted() says when the draft's wording no longer holds. The counting is
in replies.deadline_rules, the reading of dates from a message in replies.decision_dates.
"""

from __future__ import annotations

import datetime as dt

from .deadline_rules import Deadlines, compute_deadlines
from .working_days import long_date


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
        return f"the appeal deadline ({long_date(now.appeal_by)}) has passed since the draft was written"
    if current["adviser_passed"] and not then.get("adviser_passed"):
        return (f"the date to contact the mediation adviser ({long_date(now.mediation_contact_by)}) has passed "
                f"since the draft was written")
    for key, words in (("mediation_contact_by", "mediation adviser"), ("appeal_by", "appeal")):
        if current[key] != then.get(key):
            return f"the {words} deadline has changed since the draft was written"
    return ""

