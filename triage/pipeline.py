"""poll_once(): fetch -> parse -> store -> classify -> draft -> enqueue, one transaction per message.

A message is marked on the server only after its transaction has committed, and the database,
not the server's keyword, decides what is new: so a crash at any point loses nothing and a
restart queues nothing twice. A message that breaks a stage is stored raw with its error and
queued for review; only a failure of the database itself stops the batch (and marks nothing).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import Callable

from classifier import Classifier
from replies import ReplyContext, RouteBook, render_draft, reply_subject

from .domain import Classification, DraftText, FetchedMail, ParsedMessage, PollReport
from .intake import MailSource
from .parsing import parse_message
from .store import DuplicateMessage, NewMessage, Store, dedupe_key, now

log = logging.getLogger("triage.pipeline")


@dataclass(frozen=True)
class Triage:
    """The per-message work of intake, with everything it needs passed in."""

    store: Store
    classifier: Classifier
    book: RouteBook
    since: dt.date | None = None
    batch_size: int = 50
    clock: Callable[[], dt.datetime] = now


def case_reference(received: dt.datetime, key: str) -> str:
    """A short, stable case reference such as EHC-261128-K3M9Q (date received + message hash)."""
    code = base64.b32encode(bytes.fromhex(key[:10])).decode()[:5]
    return f"EHC-{received:%y%m%d}-{code}"


def poll_once(source: MailSource, triage: Triage) -> PollReport:
    """Read every new message in the source's folder once, and queue it."""
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
        for start in range(0, len(uids), triage.batch_size):
            chunk = uids[start : start + triage.batch_size]
            done: list[int] = []
            for fetched in source.fetch(chunk):
                report = _merge(report, process(fetched, triage))
                done.append(fetched.uid)
            source.mark(done)
            report = replace(report, marked=report.marked + len(done))
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


def process(fetched: FetchedMail, triage: Triage) -> PollReport:
    """Parse, classify, draft and store one message; the report says what happened to it."""
    parsed = parse_message(fetched.raw)
    key = dedupe_key(parsed.message_id, fetched.raw)
    store = triage.store
    if store.knows(key):
        store.advance_folder(fetched.source, fetched.folder, fetched.uidvalidity, fetched.uid)
        return PollReport(fetched=1, duplicates=1)
    received = fetched.internal_date or parsed.date or triage.clock()
    recorded_only = bool(triage.since and received.date() < triage.since)
    reference = case_reference(received, key)
    new = NewMessage(fetched=fetched, parsed=parsed, key=key, reference=reference, recorded_only=recorded_only)
    if not recorded_only:
        classification, events = _classify(parsed, triage.classifier)
        draft = _draft(parsed, classification.label, reference, received, triage.book)
        new = replace(new, classification=classification, draft=draft, events=events)
    try:
        item_id = store.add_message(new)
    except DuplicateMessage:  # another worker stored it between our check and our insert
        return PollReport(fetched=1, duplicates=1)
    return PollReport(
        fetched=1, stored=1, queued=int(item_id is not None), recorded_only=int(recorded_only),
        failed_parse=int(bool(parsed.error)), item_ids=(item_id,) if item_id is not None else (),
    )


def _classify(parsed: ParsedMessage, classifier: Classifier) -> tuple[Classification, tuple]:
    try:
        p = classifier.predict(parsed.subject, parsed.text)
    except Exception as exc:  # a classifier bug must not lose the message: queue it for a person
        log.exception("classification failed")
        return (
            Classification("other", 0.0, True, False, {}, classifier.version),
            (("classification_failed", {"error": f"{type(exc).__name__}: {exc}"}),),
        )
    events: tuple = ()
    if p.safeguarding:
        events = (("safeguarding_flagged", {"reasons": list(p.safeguarding_reasons)}),)
    return (
        Classification(p.label, p.confidence, p.needs_review, p.safeguarding, dict(p.scores), p.model_version,
                       p.explanation),
        events,
    )


def _draft(parsed: ParsedMessage, route: str, reference: str, received: dt.datetime, book: RouteBook) -> DraftText:
    ctx = ReplyContext(route=route, reference=reference, sender_name=parsed.from_name,
                       original_subject=parsed.subject, received_on=received.date(), book=book)
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
