"""One message's triage once it is classified: its case reference, draft, reply-by date and what is
sent at once (the acknowledgement and the safeguarding alert), as a NewMessage for the store.

A bug in any of these steps must neither lose the message nor stop its batch: the message is then
stored untriaged, queued for a person with no draft, and nothing is sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from replies import RouteBook, render_safeguarding_alert
from replies.working_days import add_working_days
from replies.drafting import london_today

from .acknowledging import acknowledgement, window_key
from .alerts import AlertWindow, with_count
from .classifying import Verdict, for_review
from .composing import compose
from .domain import Classification, DraftText, NewMessage, OutboxKind, OutboxStatus, OutgoingMail, now
from .errors import event_error_text
from .events import Event, SafeguardingAlertGrouped, SafeguardingAlertNotSent, TriageFailed
from .route_drafts import draft_for_route
from .settings import AcknowledgementSettings, SafeguardingSettings, ServiceSettings
from .store import Store

if TYPE_CHECKING:  # scikit-learn is imported only where a model runs
    from classifier import Classifier

log = logging.getLogger("triage.pipeline")


@dataclass(frozen=True)
class Triage:
    """The per-message work of intake, with everything it needs passed in."""

    store: Store
    classifier: Classifier
    book: RouteBook
    service: ServiceSettings = ServiceSettings()
    acknowledgement: AcknowledgementSettings = AcknowledgementSettings()
    safeguarding: SafeguardingSettings = SafeguardingSettings()
    clock: Callable[[], dt.datetime] = now


def case_reference(received: dt.datetime, key: str) -> str:
    """A short, stable case reference such as EHC-261128-K3M9QA7B (date received + 40 bits of the message's
    hash: at 1,500 messages a day, two of one day share one about once in a million days; with the 25 bits
    used before December 2026, about once a month, and the second message became a stub for review)."""
    code = base64.b32encode(bytes.fromhex(key[:10])).decode()[:8]
    return f"EHC-{received:%y%m%d}-{code}"


def reply_due(received: dt.datetime, working_days: int) -> dt.datetime:
    """The reply-by date an acknowledgement promises (midnight UTC of that day), the queue's due date."""
    day = add_working_days(received.date(), working_days)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def triage_message(new: NewMessage, received: dt.datetime, triage: Triage,
                   classified: Verdict, lately: set[str],
                   alerts: AlertWindow | None = None) -> NewMessage:
    """The classified message drafted, with its acknowledgement and alert; or, should a step fail,
    untriaged. `lately` holds the acknowledgement window's addresses (normalised: triage.addresses);
    an acknowledgement queued here is added to it, so later messages of the batch see it."""
    try:
        triaged = _triage(new, received, triage, classified, lately,
                          alerts if alerts is not None else AlertWindow.of(triage.store, triage.clock()))
    except Exception as exc:  # a stage's bug must neither lose this message nor stop the batch
        log.exception("triage of a message failed: it is stored and queued for review")
        return _untriaged(new, received, triage, exc)
    # Later messages of the batch see this acknowledgement, as they would once it was stored.
    lately.update(window_key(m.to_address) for m in triaged.outgoing if m.kind is OutboxKind.ACKNOWLEDGEMENT)
    return triaged


def _triage(new: NewMessage, received: dt.datetime, triage: Triage,
            classified: Verdict, lately: set[str], alerts: AlertWindow) -> NewMessage:
    """Find deadlines, draft, and decide what to send at once, for a classified message."""
    parsed = new.parsed
    classification, events = classified
    route = classification.label  # the classifier's route
    drafted = draft_for_route(parsed, route, new.reference, received, triage.book,
                              today=london_today(triage.clock()))
    ack, ack_events = acknowledgement(parsed, classification, new.reference, received, triage, lately)
    alert, alert_events = _safeguarding_alert(classification, parsed.from_address, new.reference, received, triage,
                                              alerts)
    status = OutboxStatus.WOULD_SEND if triage.service.shadow else OutboxStatus.PENDING
    due = reply_due(max(received, triage.clock()), triage.acknowledgement.reply_within_working_days)
    return replace(new, classification=classification, draft=drafted.draft, flags=drafted.flags,
                   draft_meta=drafted.meta, statutory_deadline=drafted.statutory_deadline,
                   appeal_deadline=drafted.appeal_deadline, adviser_until=drafted.adviser_until, due_at=due,
                   outgoing=tuple(m for m in (ack, alert) if m is not None), outbox_status=status,
                   events=events + ack_events + alert_events)


def _safeguarding_alert(classification: Classification, sender: str, reference: str, received: dt.datetime,
                        triage: Triage, alerts: AlertWindow) -> tuple[OutgoingMail | None, tuple[Event, ...]]:
    """The alert to the duty address for a flagged message (it names reasons, never the writer's words),
    one per sender per hour (triage.alerts: the others are grouped into it, with a count)."""
    if not classification.safeguarding:
        return None, ()
    duty, service = triage.safeguarding.duty_address, triage.service
    if not duty:
        return None, (SafeguardingAlertNotSent(reason="no [safeguarding] duty_address configured"),)
    decided = alerts.decide(sender, reference, triage.clock())
    if not decided.send:
        return None, (SafeguardingAlertGrouped(decided.alert_at.isoformat(), decided.count),)
    alert = with_count(render_safeguarding_alert(reference, received, classification.safeguarding_reasons),
                       decided.earlier)
    return compose(OutboxKind.ALERT, alert, duty, "", service.from_address, service.from_name), ()


def _untriaged(new: NewMessage, received: dt.datetime, triage: Triage, exc: Exception) -> NewMessage:
    """The message as a caseworker must see it when triage itself failed: needs review, no draft, nothing sent."""
    error = event_error_text(exc)
    return replace(
        new, classification=for_review(triage.classifier),
        draft=DraftText(f"Your message to the EHC team ({new.reference})", f"[No draft could be written: {error}]", ""),
        flags=("triage_failed",), draft_meta={},
        due_at=reply_due(max(received, triage.clock()), triage.acknowledgement.reply_within_working_days),
        outgoing=(), events=(TriageFailed(error=error),))
