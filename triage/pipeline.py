"""poll_once(): fetch -> parse -> classify -> draft -> store and enqueue, one transaction per fetched batch.

A message is marked on the server only after its batch's transaction has committed, and the database,
not the server's keyword, decides what is new: so a crash at any point loses nothing and a
restart queues nothing twice. A message that breaks a stage is stored raw with its error and
queued for review; only a failure of the database itself stops the batch (and marks nothing).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from classifier import Classifier, Prediction
from replies import (
    AcknowledgementContext,
    ReplyContext,
    RouteBook,
    render_acknowledgement,
    render_draft,
    render_safeguarding_alert,
    reply_subject,
)
from replies.deadlines import (
    Deadlines,
    FoundDate,
    add_working_days,
    compute_deadlines,
    find_certificate_date,
    find_decision_date,
)
from replies.drafting import DEADLINE_ROUTES, london_today
from replies.facts import PLACEHOLDER, placeholder_line

from .acknowledging import suppression_reason
from .composing import compose
from .domain import Classification, DraftText, FetchedMail, OutboxKind, OutboxStatus, ParsedMessage, PollReport
from .intake import MailSource
from .parsing import classifiable_document, parse_message
from .settings import AcknowledgementSettings, SafeguardingSettings, ServiceSettings
from .store import FolderPosition, NewMessage, OutgoingMail, Store, dedupe_key, now

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
    """A short, stable case reference such as EHC-261128-K3M9Q (date received + message hash)."""
    code = base64.b32encode(bytes.fromhex(key[:10])).decode()[:5]
    return f"EHC-{received:%y%m%d}-{code}"


def poll_once(source: MailSource, triage: Triage) -> PollReport:
    """Read every new message in the source's folder once, and queue it (unless another worker is
    polling the same mailbox right now: then skip, and leave it to them)."""
    with triage.store.mailbox_lock(source.name) as mine:
        if not mine:
            log.info("%s is being polled by another worker: skipping this poll", source.name)
            return PollReport(skipped=True)
        return _poll(source, triage)


def _poll(source: MailSource, triage: Triage) -> PollReport:
    report = PollReport()
    store = triage.store
    with source:
        uidvalidity = source.select()
        state = store.folder_state(source.name, source.folder)
        if state is None or state[0] != uidvalidity:
            if state is not None:
                log.warning("UIDVALIDITY of %s changed (%s -> %s): rescanning, duplicates will be skipped",
                            source.folder, state[0], uidvalidity)
            store.reset_folder(source.name, source.folder, uidvalidity)
            last_uid = 0
        else:
            last_uid = state[1]
        report = replace(report, marked=_repair_marks(source, store, uidvalidity, last_uid))
        uids = source.uids_after(last_uid)
        chunks = [uids[start : start + source.batch_size] for start in range(0, len(uids), source.batch_size)]
        with closing(_parsed_ahead(source, chunks, triage)) as batches:  # a failure stops the parse thread too
            for incoming in batches:
                report = _merge(report, _process_incoming(incoming, triage))
                source.mark([i.fetched.uid for i in incoming])  # only now: the batch's transaction has committed
                report = replace(report, marked=report.marked + len(incoming))
    log.info("poll of %s/%s: %d fetched, %d queued, %d duplicates, %d recorded only, %d failed to parse",
             source.name, source.folder, report.fetched, report.queued, report.duplicates,
             report.recorded_only, report.failed_parse)
    return report


def _repair_marks(source: MailSource, store: Store, uidvalidity: int, last_uid: int) -> int:
    """Mark messages that were stored but not marked (the service stopped between the two)."""
    unmarked = source.unmarked(last_uid)
    if not unmarked:
        return 0
    stored = sorted(store.stored_uids(source.name, source.folder, uidvalidity, unmarked))
    source.mark(stored)
    return len(stored)


@dataclass(frozen=True)
class _Incoming:
    """One fetched message, parsed, with what decides its fate before any model runs."""

    fetched: FetchedMail
    parsed: ParsedMessage
    key: str
    received: dt.datetime
    recorded_only: bool


def process(fetched: FetchedMail, triage: Triage) -> PollReport:
    """Parse, classify, draft and store one message; the report says what happened to it."""
    return process_batch([fetched], triage)


def _parsed_ahead(source: MailSource, chunks: list[list[int]], triage: Triage) -> Iterator[list[_Incoming]]:
    """Each chunk of UIDs fetched (on this thread: the IMAP connection is not shared) and parsed, the next
    one parsed on a worker thread while the caller classifies and stores this one. Reading an attached
    PDF waits for a sandboxed subprocess (about 0.2 s on the other core): that wait now overlaps the
    caller's work instead of stalling it. Two batches at most are held at once, so memory stays flat."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-parse") as parsing:
        ahead: Future[list[_Incoming]] | None = None
        for chunk in chunks:
            batch = list(source.fetch(chunk))
            parsed = parsing.submit(lambda batch=batch: [_incoming(fetched, triage) for fetched in batch])
            if ahead is not None:
                yield ahead.result()
            ahead = parsed
        if ahead is not None:
            yield ahead.result()


def process_batch(batch: list[FetchedMail], triage: Triage) -> PollReport:
    """Parse, classify, draft and store a fetched batch's messages (see _process_incoming)."""
    return _process_incoming([_incoming(fetched, triage) for fetched in batch], triage)


def _process_incoming(incoming: list[_Incoming], triage: Triage) -> PollReport:
    """Classify, draft and store a fetched batch's parsed messages, in UID order, in one transaction.

    The batch's new messages are classified in one call and stored with a few bulk inserts (far cheaper
    than one at a time); the acknowledgement window is read once for the batch and then carried along,
    so a sender who writes twice in one batch is still acknowledged once.
    """
    store = triage.store
    known = store.known_keys([i.key for i in incoming])
    fresh: list[_Incoming] = []
    seen: list[FolderPosition] = []
    for i in incoming:  # a message already stored, or twice in this batch: the first one counts
        if i.key in known:
            f = i.fetched
            seen.append(FolderPosition(f.source, f.folder, f.uidvalidity, f.uid))
        else:
            known.add(i.key)
            fresh.append(i)
    to_triage = [n for n, i in enumerate(fresh) if not i.recorded_only]
    classified = dict(zip(to_triage, _classify_all([fresh[n].parsed for n in to_triage], triage.classifier),
                          strict=True))
    lately = _acknowledged_lately(fresh, triage)
    news = [_new_message(i, classified.get(n), triage, lately) for n, i in enumerate(fresh)]
    stored = store.add_batch(news, seen)
    report = PollReport(fetched=len(seen), duplicates=len(seen))
    for i, result in zip(fresh, stored, strict=True):
        report = _merge(report, PollReport(fetched=1, duplicates=1) if result.duplicate else PollReport(
            fetched=1, stored=1, queued=int(result.item_id is not None), recorded_only=int(i.recorded_only),
            failed_parse=int(bool(i.parsed.error)), item_ids=(result.item_id,) if result.item_id is not None else ()))
    return report


def _incoming(fetched: FetchedMail, triage: Triage) -> _Incoming:
    parsed = parse_message(fetched.raw)
    received = fetched.internal_date or parsed.date or triage.clock()
    since = triage.service.since
    return _Incoming(fetched, parsed, dedupe_key(parsed.message_id, fetched.raw), received,
                     bool(since and received.date() < since))


def _acknowledged_lately(fresh: list[_Incoming], triage: Triage) -> set[str]:
    """The batch's senders (lower-cased) already acknowledged within the window, in one query."""
    hours = triage.acknowledgement.window_hours
    if hours <= 0:
        return set()
    addresses = [i.parsed.reply_to or i.parsed.from_address for i in fresh if not i.recorded_only]
    return triage.store.acknowledged_lately(addresses, triage.clock() - dt.timedelta(hours=hours))


def _new_message(i: _Incoming, classified: tuple[Classification, tuple] | None, triage: Triage,
                 lately: set[str]) -> NewMessage:
    new = NewMessage(fetched=i.fetched, parsed=i.parsed, key=i.key, reference=case_reference(i.received, i.key),
                     recorded_only=i.recorded_only)
    if classified is None:
        return new
    try:
        new = _triage(new, i.received, triage, classified, lately)
    except Exception as exc:  # a stage's bug must neither lose this message nor stop the batch
        log.exception("triage of a message failed: it is stored and queued for review")
        return _untriaged(new, i.received, triage, exc)
    # Later messages of the batch see this acknowledgement, as they would once it was stored.
    lately.update(m.to_address.lower() for m in new.outgoing if m.kind is OutboxKind.ACKNOWLEDGEMENT)
    return new


def _triage(new: NewMessage, received: dt.datetime, triage: Triage,
            classified: tuple[Classification, tuple], lately: set[str]) -> NewMessage:
    """Find deadlines, draft, and decide what to send at once, for a classified message."""
    parsed = new.parsed
    classification, events = classified
    drafted = draft_for_route(parsed, classification.label, new.reference, received, triage.book,
                              today=london_today(triage.clock()))
    outgoing, more_events = _outgoing(parsed, classification, new.reference, received, triage, lately)
    status = OutboxStatus.WOULD_SEND if triage.service.shadow else OutboxStatus.PENDING
    due = reply_due(max(received, triage.clock()), triage.acknowledgement.reply_within_working_days)
    return replace(new, classification=classification, draft=drafted.draft, flags=drafted.flags,
                   draft_meta=drafted.meta, statutory_deadline=drafted.statutory_deadline, due_at=due,
                   outgoing=outgoing, outbox_status=status,
                   events=events + more_events)


def _untriaged(new: NewMessage, received: dt.datetime, triage: Triage, exc: Exception) -> NewMessage:
    """The message as a caseworker must see it when triage itself failed: needs review, no draft, nothing sent."""
    error = _error_text(exc)
    return replace(
        new, classification=_for_review(triage.classifier),
        draft=DraftText(f"Your message to the EHC team ({new.reference})", f"[No draft could be written: {error}]", ""),
        flags=("triage_failed",), draft_meta={},
        due_at=reply_due(max(received, triage.clock()), triage.acknowledgement.reply_within_working_days),
        outgoing=(), events=(("triage_failed", {"error": error}),))


def reply_due(received: dt.datetime, working_days: int) -> dt.datetime:
    """The reply-by date an acknowledgement promises (midnight UTC of that day), the queue's due date."""
    day = add_working_days(received.date(), working_days)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class RouteDraft:
    """A draft for one route, with what a caseworker must check and what its deadlines rest on."""

    draft: DraftText
    flags: tuple[str, ...]
    meta: dict
    statutory_deadline: dt.date | None = None  # the earliest deadline still to act on, for the queue


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
        decision = find_decision_date(parsed.text, sent_on, attachments=attachments, ours=ours)
        certificate = find_certificate_date(parsed.text, sent_on, attachments=attachments, ours=ours)
        deadlines = compute_deadlines(decision.date if decision else None,
                                      certificate.date if certificate else None, today=today)
    draft = _draft(parsed, route, reference, received, book, decision, deadlines, certificate)
    return RouteDraft(draft, _flags(parsed, route, decision, deadlines, draft),
                      _draft_meta(decision, certificate, deadlines, today),
                      deadlines.statutory_deadline if deadlines else None)


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
    if not (parsed.reply_to or parsed.from_address):
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


def _outgoing(parsed: ParsedMessage, classification: Classification, reference: str, received: dt.datetime,
              triage: Triage, lately: set[str]) -> tuple[tuple[OutgoingMail, ...], tuple]:
    """The acknowledgement (unless suppressed) and the safeguarding alert (when flagged); `lately` holds
    the addresses (lower-cased) acknowledged within the window."""
    service, ack = triage.service, triage.acknowledgement
    outgoing: list[OutgoingMail] = []
    events: list = []
    address = parsed.reply_to or parsed.from_address
    recently = bool(address) and ack.window_hours > 0 and address.lower() in lately
    reason = suppression_reason(parsed, classification.label, ack, service, recently)
    if reason:
        events.append(("acknowledgement_suppressed", {"reason": reason}))
    else:
        # Counted from receipt, but never from a day already past (a backlog acknowledged late).
        reply_by = add_working_days(london_today(max(received, triage.clock())), ack.reply_within_working_days)
        try:
            draft = render_acknowledgement(AcknowledgementContext(
                reference=reference, sender_name=parsed.from_name, original_subject=parsed.subject,
                reply_by=reply_by, book=triage.book, safeguarding=classification.safeguarding))
            outgoing.append(compose(OutboxKind.ACKNOWLEDGEMENT, draft, address, parsed.from_name,
                                    service.from_address, service.from_name, reply_to=parsed))
        except Exception as exc:  # headers no email can carry: the message is still stored and queued
            log.exception("the acknowledgement could not be written")
            events.append(("acknowledgement_failed", {"error": _error_text(exc)}))
    if classification.safeguarding:
        duty = triage.safeguarding.duty_address
        if duty:
            alert = render_safeguarding_alert(reference, received, classification.safeguarding_reasons)
            outgoing.append(compose(OutboxKind.ALERT, alert, duty, "", service.from_address, service.from_name))
        else:
            events.append(("safeguarding_alert_not_sent", {"reason": "no [safeguarding] duty_address configured"}))
    return tuple(outgoing), tuple(events)


def _classify_all(messages: list[ParsedMessage], classifier: Classifier) -> list[tuple[Classification, tuple]]:
    """Each message's classification and its events, in one batch; should the batch fail, one at a time,
    so only the message that breaks the classifier goes to a person unclassified."""
    try:
        documents = [classifiable_document(p) for p in messages]  # the attached letter's text too
        return [_classification(p, classifier) for p in classifier.predict_documents(documents)]
    except Exception as exc:
        if len(messages) == 1:  # a classifier bug must not lose the message: it is queued for a person
            log.exception("classification failed")
            return [(_for_review(classifier), (("classification_failed", {"error": _error_text(exc)}),))]
        log.exception("classifying a batch failed: classifying its messages one at a time")
        return [_classify_all([m], classifier)[0] for m in messages]


def _for_review(classifier: Classifier) -> Classification:
    """No route at all: what a message gets when classifying or triaging it failed."""
    return Classification("other", 0.0, True, False, {}, classifier.version)


def _error_text(exc: Exception) -> str:
    """An exception as the event log keeps it."""
    return f"{type(exc).__name__}: {exc}"[:500]


def _classification(p: Prediction, classifier: Classifier) -> tuple[Classification, tuple]:
    events: tuple = ()
    if p.safeguarding:
        events = (("safeguarding_flagged", {"reasons": list(p.safeguarding_reasons)}),)
    return (
        Classification(p.label, p.confidence, p.needs_review, p.safeguarding, dict(p.scores), p.model_version,
                       p.explanation, p.safeguarding_reasons, threshold=classifier.threshold,
                       safeguarding_evidence=p.safeguarding_evidence, runner_up=p.runner_up),
        events,
    )


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


def _merge(a: PollReport, b: PollReport) -> PollReport:
    return PollReport(
        fetched=a.fetched + b.fetched, stored=a.stored + b.stored, duplicates=a.duplicates + b.duplicates,
        queued=a.queued + b.queued, recorded_only=a.recorded_only + b.recorded_only,
        failed_parse=a.failed_parse + b.failed_parse, marked=a.marked, item_ids=a.item_ids + b.item_ids,
    )
