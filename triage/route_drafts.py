"""The drafting step: a route's draft for one message, with the deadlines it rests on and what a
caseworker must check before approving. Intake calls it for the classifier's route; a caseworker
changing the route (or re-drafting) calls it again (service.change_route)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from replies import ReplyContext, RouteBook, render_draft, reply_subject
from replies.deadline_rules import Deadlines, compute_deadlines
from replies.decision_dates import FoundDate, find_document_dates
from replies.drafting import DEADLINE_ROUTES, london_today
from replies.facts import PLACEHOLDER, placeholder_line

from .addresses import problem
from .domain import DraftText, ParsedMessage, now

log = logging.getLogger("triage.pipeline")


@dataclass(frozen=True)
class RouteDraft:
    """A draft for one route, with what a caseworker must check and what its deadlines rest on."""

    draft: DraftText
    flags: tuple[str, ...]
    meta: dict
    statutory_deadline: dt.date | None = None  # the earliest deadline still to act on, for the queue
    appeal_deadline: dt.date | None = None  # what it becomes once the adviser's two months are over
    adviser_until: dt.date | None = None  # the last day of those two months (None: no adviser step)


def draft_for_route(parsed: ParsedMessage, route: str, reference: str, received: dt.datetime,
                    book: RouteBook, today: dt.date | None = None) -> RouteDraft:
    """Find the decision-letter deadlines (mediation and tribunal) and render the route's draft.

    Intake calls it for the classifier's route; a caseworker changing the route (or re-drafting on the
    same route) calls it again. The deadlines are judged on `today` (England's date; default: now),
    the day the draft is written, never the day the message arrived.
    """
    today = today or london_today(now())
    sent_on = london_today(parsed.date or received)
    decision = certificate = None
    deadlines = None
    if route in DEADLINE_ROUTES:
        # The attached letters' texts too: the decision letter's own date when the email says "see attached".
        attachments = tuple(a.text for a in parsed.attachment_texts if a.text)
        # The whole body, quoted history included: our own quoted emails (naming the council's team,
        # address or name) are told apart from the writer's new text and from anyone else's.
        ours = tuple(v for v in (book.council.team_email, book.council.team_name, book.council.name)
                     if v and PLACEHOLDER not in v)
        decision, certificate = find_document_dates(parsed.text, sent_on, attachments=attachments, ours=ours)
        deadlines = compute_deadlines(decision.date if decision else None,
                                      certificate.date if certificate else None, today=today)
    draft = _draft(parsed, route, reference, received, book, decision, deadlines, certificate)
    return RouteDraft(draft, _flags(parsed, route, decision, deadlines, draft),
                      _draft_meta(decision, certificate, deadlines, today),
                      deadlines.statutory_deadline if deadlines else None,
                      deadlines.appeal_by if deadlines else None,
                      deadlines.mediation_contact_by if deadlines and not deadlines.certificate_held else None)


def _flags(parsed: ParsedMessage, route: str, decision: FoundDate | None, deadlines: Deadlines | None,
           draft: DraftText) -> tuple[str, ...]:
    """What a caseworker must check before approving."""
    flags = []
    if route in DEADLINE_ROUTES:
        if decision is None:
            flags.append("deadline_unknown")
        elif decision.approximate:
            flags.append("deadline_approximate")
        flags.extend(deadline_flags(deadlines))
    if problem(parsed.from_address):  # replies go to From only (triage.addresses)
        flags.append("no_reply_address")
    if placeholder_line(draft.text):
        flags.append("placeholder")
    return tuple(flags)


def deadline_flags(deadlines: Deadlines | None) -> tuple[str, ...]:
    """'deadline_passed' or 'deadline_near' for deadlines judged on a day (near: within 10 days)."""
    if deadlines is None or deadlines.appeal_by is None:
        return ()
    if deadlines.any_passed:
        return ("deadline_passed",)
    if deadlines.near:
        return ("deadline_near",)
    return ()


def _draft_meta(decision: FoundDate | None, certificate: FoundDate | None, deadlines: Deadlines | None,
                today: dt.date) -> dict:
    """What the draft's deadlines were based on, for the caseworker and the audit log; `state` is what
    its wording assumed on `drafted_on`, checked again at approval (replies.deadlines.changed_since_drafted)."""
    if deadlines is None:
        return {}
    found = lambda f: None if f is None else {"date": f.date.isoformat(), "text": f.text,  # noqa: E731
                                               "approximate": f.approximate, "rule": f.rule}
    day = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"decision": found(decision), "certificate": found(certificate),
            "mediation_contact_by": day(deadlines.mediation_contact_advice_by), "appeal_by": day(deadlines.appeal_by),
            "rule_text": deadlines.rule_text, "passed": deadlines.passed, "near": deadlines.near,
            "drafted_on": today.isoformat(), "state": deadlines.state(),
            "statutory_deadline": day(deadlines.statutory_deadline)}


def _draft(parsed: ParsedMessage, route: str, reference: str, received: dt.datetime, book: RouteBook,
           decision: FoundDate | None = None, deadlines: Deadlines | None = None,
           certificate: FoundDate | None = None) -> DraftText:
    ctx = ReplyContext(route=route, reference=reference, sender_name=parsed.from_name,
                       original_subject=parsed.subject, received_on=london_today(received), book=book,
                       decision=decision, deadlines=deadlines, certificate=certificate)
    try:
        d = render_draft(ctx)
    except Exception as exc:  # a template error must not lose the message either
        log.exception("drafting failed")
        return DraftText(reply_subject(parsed.subject, reference), f"[No draft could be written: {exc}]", "")
    return DraftText(d.subject, d.text, d.html)
