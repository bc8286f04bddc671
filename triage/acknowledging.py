"""The acknowledgement decision: whether a message gets an automatic acknowledgement (RFC 3834), and
if so, the acknowledgement itself.

Answering automatic mail is how mail loops start, so every sign of a machine sender suppresses the
acknowledgement, and so does having acknowledged the same person within the window.

An acknowledgement is sent before any person has seen the message, to an address nobody has checked,
so it must be useless for reaching a third party: it goes to the From address only (never Reply-To),
once per window per normalised address (triage.addresses.normalise: `victim+1@` and `"victim"@` are
`victim@`), and it repeats neither the sender's subject nor their display name, only our own words
and the case reference.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from replies import AcknowledgementContext, render_acknowledgement
from replies.working_days import add_working_days
from replies.drafting import london_today

from .addresses import normalise, problem
from .composing import compose
from .domain import Classification, OutboxKind, OutgoingMail, ParsedMessage
from .errors import event_error_text
from .events import AcknowledgementNotComposed, AcknowledgementSuppressed, Event
from .settings import AcknowledgementSettings, ServiceSettings

if TYPE_CHECKING:
    from .triaging import Triage

log = logging.getLogger("triage.pipeline")


def suppression_reason(
    parsed: ParsedMessage,
    route: str,
    ack: AcknowledgementSettings,
    service: ServiceSettings,
    acknowledged_recently: bool,
) -> str:
    """'' when the sender should be acknowledged, else the reason (for the event log)."""
    a = parsed.auto
    address = parsed.from_address  # never Reply-To: see the module's docstring
    unusable = problem(address)
    checks = (
        (not ack.enabled, "acknowledgements are switched off ([acknowledgement] enabled = false)"),
        (bool(parsed.error), "the message could not be parsed, so it may be automatic mail"),
        (not address, "the message has no sender address"),
        (bool(unusable), f"the sender's address cannot be written to: {unusable}"),
        (bool(a.auto_submitted) and a.auto_submitted != "no", f"automatic mail (Auto-Submitted: {a.auto_submitted})"),
        (a.precedence in ("bulk", "list", "junk"), f"bulk or list mail (Precedence: {a.precedence})"),
        (bool(a.list_id), "mailing list mail (List-Id)"),
        (a.list_unsubscribe, "mailing list mail (List-Unsubscribe)"),
        (a.delivery_report, "a delivery report (bounce)"),
        (a.robot_sender, f"sent by a robot address ({parsed.from_address})"),
        (a.null_return_path, "sent with an empty Return-Path (an automatic reply or bounce)"),
        (a.autoreply_header, "marked as an automatic reply by its mail server"),
        (service.is_own_address(address), "sent from our own address"),
        (route in ack.disabled_routes, f"acknowledgements are switched off for the {route} route"),
        (acknowledged_recently, f"this sender was acknowledged in the last {ack.window_hours} hours"),
    )
    return next((reason for failed, reason in checks if failed), "")


def window_key(address: str) -> str:
    """The form in which the acknowledgement window compares addresses (triage.addresses.normalise)."""
    return normalise(address)


class AcknowledgementWindow:
    """The senders acknowledged within the window ([acknowledgement] window_hours), as window_key
    gives them, for one poll: every acknowledgement in the window is read at the first batch, and each
    later batch reads only the rows added since (its own, and any another worker queued meanwhile).

    The addresses are compared normalised, which SQL cannot do, so the rows come back to be compared
    here; reading the whole window for every batch cost 0.1 s a batch with 20,000 in it."""

    def __init__(self, triage: Triage) -> None:
        self._triage = triage
        self._seen: set[str] = set()
        self._after_id = 0

    def current(self) -> set[str]:
        """A copy of the window as the outbox holds it now (empty when there is no window)."""
        hours = self._triage.acknowledgement.window_hours
        if hours <= 0:
            return set()
        since = self._triage.clock() - dt.timedelta(hours=hours)
        added, self._after_id = self._triage.store.outbox.acknowledged_since(since, self._after_id)
        self._seen.update(window_key(a) for a in added)
        return set(self._seen)


def acknowledgement(parsed: ParsedMessage, classification: Classification, reference: str, received: dt.datetime,
                    triage: Triage, lately: set[str]) -> tuple[OutgoingMail | None, tuple[Event, ...]]:
    """The acknowledgement for a classified message, or None and the event that says why not;
    `lately` holds the addresses (window_key) acknowledged within the window."""
    service, ack = triage.service, triage.acknowledgement
    address = parsed.from_address
    recently = bool(address) and ack.window_hours > 0 and window_key(address) in lately
    reason = suppression_reason(parsed, classification.label, ack, service, recently)
    if reason:
        return None, (AcknowledgementSuppressed(reason=reason),)
    # Counted from receipt, but never from a day already past (a backlog acknowledged late).
    reply_by = add_working_days(london_today(max(received, triage.clock())), ack.reply_within_working_days)
    try:
        # No subject and no name of theirs: whoever forged the From address cannot make us say their words.
        draft = render_acknowledgement(AcknowledgementContext(
            reference=reference, sender_name="", original_subject="",
            reply_by=reply_by, book=triage.book, safeguarding=classification.safeguarding))
        return compose(OutboxKind.ACKNOWLEDGEMENT, draft, address, "",
                       service.from_address, service.from_name, reply_to=parsed), ()
    except Exception as exc:  # headers no email can carry: the message is still stored and queued
        log.exception("the acknowledgement could not be written")
        return None, (AcknowledgementNotComposed(error=event_error_text(exc)),)
