"""poll_once(): fetch -> parse -> classify -> draft -> store and enqueue, one transaction per fetched batch.

A message is marked on the server only after its batch's transaction has committed, and the database,
not the server's keyword, decides what is new: so a crash at any point loses nothing and a
restart queues nothing twice. A message that breaks a stage is stored raw with its error and
queued for review; only a failure of the database itself stops the batch (and marks nothing).

This module is the batch loop; each message's steps are in their own modules: classifying (the
route), route_drafts (the draft and its deadlines), acknowledging (the acknowledgement decision) and
triaging (one message's triage put together).
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from typing import Callable, Iterator, NamedTuple

from .acknowledging import AcknowledgementWindow
from .alerts import AlertWindow
from .backlog_worker import BacklogWorker, worth_starting
from .classifying import Verdict, classify_all
from .domain import FetchedMail, NewMessage, PollReport
from .incoming import Incoming, read_incoming
from .intake import MailSource
from .reader_zygote import warm as warm_attachment_reader
from .store import FolderPosition, Store
from .triaging import Triage, case_reference, triage_message

__all__ = ["Triage", "poll_once", "process", "process_batch"]

log = logging.getLogger("triage.pipeline")

AHEAD = 3  # fetched batches read ahead of the one being classified and stored
AHEAD_BYTES = 32 * 1024 * 1024  # ... more than one only while those ahead hold less than this


def poll_once(source: MailSource, triage: Triage) -> PollReport:
    """Read every new message in the source's folder once, and queue it (unless another worker is
    polling the same mailbox right now: then skip, and leave it to them)."""
    with triage.store.folders.mailbox_lock(source.name) as mine:
        if not mine:
            log.info("%s is being polled by another worker: skipping this poll", source.name)
            return PollReport(skipped=True)
        return _poll(source, triage)


def _poll(source: MailSource, triage: Triage) -> PollReport:
    report = PollReport()
    store = triage.store
    with source:
        uidvalidity = source.select()
        state = store.folders.folder_state(source.name, source.folder)
        if state is None or state[0] != uidvalidity:
            if state is not None:
                log.warning("UIDVALIDITY of %s changed (%s -> %s): rescanning, duplicates will be skipped",
                            source.folder, state[0], uidvalidity)
            store.folders.reset_folder(source.name, source.folder, uidvalidity)
            last_uid = 0
        else:
            last_uid = state[1]
        report = replace(report, marked=_repair_marks(source, store, uidvalidity, last_uid))
        uids = source.uids_after(last_uid)
        chunks = [uids[start : start + source.batch_size] for start in range(0, len(uids), source.batch_size)]
        if len(chunks) > 1:  # a backlog: the attachment reader starts while the first batch is fetched
            warm_attachment_reader()
        window = AcknowledgementWindow(triage)  # read whole at the first batch, then only what was added
        with closing(_parsed_ahead(source, chunks, triage)) as batches:  # a failure stops the parse thread too
            for incoming in batches:
                report = _merge(report, _process_incoming(incoming, triage, window))
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
    stored = sorted(store.folders.stored_uids(source.name, source.folder, uidvalidity, unmarked))
    source.mark(stored)
    return len(stored)


def process(fetched: FetchedMail, triage: Triage) -> PollReport:
    """Parse, classify, draft and store one message; the report says what happened to it."""
    return process_batch([fetched], triage)


def _parsed_ahead(source: MailSource, chunks: list[list[int]], triage: Triage) -> Iterator[list[Incoming]]:
    """Each chunk of UIDs fetched (on this thread: the IMAP connection is not shared) and read up to AHEAD
    batches ahead of the one the caller classifies and stores: on a worker thread, or for a backlog in
    the backlog worker process (parsed and classified there, on the other core) once it is ready.
    Reading an attached PDF waits for a sandboxed child process (0.01-0.5 s): that wait overlaps the
    caller's work instead of stalling it, and the batches read meanwhile absorb a slow file. While the
    worker has AHEAD batches still to read, the next one is read on the thread instead. At most
    AHEAD + 1 batches are held at once, more than one ahead only while those ahead hold under
    AHEAD_BYTES: memory stays flat."""
    worker = None
    if worth_starting(sum(map(len, chunks)), triage.service.backlog_worker):
        try:
            worker = BacklogWorker(triage.classifier, triage.service.max_message_bytes, triage.service.since)
        except Exception as exc:  # no process to be had (limits, memory): this one reads every batch
            log.warning("the backlog worker could not be started (%s): reading this poll in one process",
                        type(exc).__name__)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-parse") as parsing:
            def here(batch: list[FetchedMail]) -> Future[list[Incoming]]:
                return parsing.submit(lambda: [_incoming(fetched, triage) for fetched in batch])

            ahead: deque[_Reading] = deque()
            for chunk in chunks:
                batch = list(source.fetch(chunk))
                sent = None
                if worker is not None and worker.ready() and _behind(ahead) < AHEAD:
                    sent = worker.submit(batch, triage.clock())  # None: it refused, read it here
                ahead.append(_Reading(here(batch), batch, False) if sent is None else _Reading(sent, batch, True))
                while len(ahead) > AHEAD or (len(ahead) > 1 and _bytes(ahead) > AHEAD_BYTES):
                    yield _result(ahead.popleft(), worker, here)
            while ahead:
                yield _result(ahead.popleft(), worker, here)
    finally:
        if worker is not None:
            worker.close()


class _Reading(NamedTuple):
    """A fetched batch being read: on this process's parse thread, or (`there`) in the backlog worker."""

    future: Future[list[Incoming]]
    batch: list[FetchedMail]
    there: bool


def _behind(ahead: deque[_Reading]) -> int:
    """How many batches the backlog worker has still to read."""
    return sum(1 for r in ahead if r.there and not r.future.done())


def _bytes(ahead: deque[_Reading]) -> int:
    return sum(len(f.raw) for r in ahead for f in r.batch)


def _result(reading: _Reading, worker: BacklogWorker | None,
            here: Callable[[list[FetchedMail]], Future[list[Incoming]]]) -> list[Incoming]:
    """A batch as read; one the backlog worker could not answer for is read again here."""
    try:
        return reading.future.result()
    except Exception as exc:
        if not reading.there or worker is None:
            raise
        worker.failed(exc)  # the worker died or could not take the batch: read it here instead
        return here(reading.batch).result()


def process_batch(batch: list[FetchedMail], triage: Triage) -> PollReport:
    """Parse, classify, draft and store a fetched batch's messages (see _process_incoming)."""
    return _process_incoming([_incoming(fetched, triage) for fetched in batch], triage, AcknowledgementWindow(triage))


def _process_incoming(incoming: list[Incoming], triage: Triage, window: AcknowledgementWindow) -> PollReport:
    """Classify, draft and store a fetched batch's parsed messages, in UID order, in one transaction.

    The batch's new messages are classified in one call and stored with a few bulk inserts (far cheaper
    than one at a time); the acknowledgement window is read once for the batch (only what was added
    since the poll's last batch) and then carried along, so a sender who writes twice in one batch is
    still acknowledged once.
    """
    store = triage.store
    known = store.messages.known_keys([i.key for i in incoming])
    fresh: list[Incoming] = []
    seen: list[FolderPosition] = []
    for i in incoming:  # a message already stored, or twice in this batch: the first one counts
        if i.key in known:
            f = i.fetched
            seen.append(FolderPosition(f.source, f.folder, f.uidvalidity, f.uid))
        else:
            known.add(i.key)
            fresh.append(i)
    to_triage = [n for n, i in enumerate(fresh) if not i.recorded_only]
    unclassified = [n for n in to_triage if fresh[n].verdict is None]  # the backlog worker classified the rest
    classified = {n: fresh[n].verdict for n in to_triage}
    classified.update(zip(unclassified, classify_all([fresh[n].parsed for n in unclassified], triage.classifier),
                          strict=True))
    lately = window.current() if to_triage else set()
    alerts = AlertWindow.of(store, triage.clock())  # one alert per sender per hour (triage.alerts)
    news = [_new_message(i, classified.get(n), triage, lately, alerts) for n, i in enumerate(fresh)]
    stored = store.messages.add_batch(news, seen)
    report = PollReport(fetched=len(seen), duplicates=len(seen))
    for i, result in zip(fresh, stored, strict=True):
        report = _merge(report, PollReport(fetched=1, duplicates=1) if result.duplicate else PollReport(
            fetched=1, stored=1, queued=int(result.item_id is not None), recorded_only=int(i.recorded_only),
            failed_parse=int(bool(i.parsed.error)), item_ids=(result.item_id,) if result.item_id is not None else ()))
    return report


def _incoming(fetched: FetchedMail, triage: Triage) -> Incoming:
    return read_incoming(fetched, triage.service.max_message_bytes, triage.service.since, triage.clock())


def _new_message(i: Incoming, classified: Verdict | None, triage: Triage,
                 lately: set[str], alerts: AlertWindow) -> NewMessage:
    new = NewMessage(fetched=i.fetched, parsed=i.parsed, key=i.key, reference=case_reference(i.received, i.key),
                     recorded_only=i.recorded_only)
    if classified is None:  # recorded only: stored, never triaged
        return new
    return triage_message(new, i.received, triage, classified, lately, alerts)


def _merge(a: PollReport, b: PollReport) -> PollReport:
    return PollReport(
        fetched=a.fetched + b.fetched, stored=a.stored + b.stored, duplicates=a.duplicates + b.duplicates,
        queued=a.queued + b.queued, recorded_only=a.recorded_only + b.recorded_only,
        failed_parse=a.failed_parse + b.failed_parse, marked=a.marked, item_ids=a.item_ids + b.item_ids,
    )
