"""A second process for a backlog: it parses and classifies fetched batches while the service process
drafts and stores the batch before, so intake uses two cores instead of one.

Parsing and classifying are pure work on a message's bytes: nothing is stored or sent there, and the
service process still decides everything else (duplicates, acknowledgements, drafts, the one
transaction per batch, the server's keyword). The worker is started with `spawn` (a fresh
interpreter: no lock or thread of the service is copied into it), given the loaded classifier
(pickled as its fitted parts), and used only once it has said it is ready: until then, and whenever it
cannot serve (it died, a batch could not be sent to it, it raised), the service reads the batch
itself on its parse thread, as it does for a short poll. Nothing is lost or read twice either way:
the worker's answer for a batch is used once, or the batch is read again here.

It is started only for a poll with a backlog (BACKLOG_FROM messages or more: it takes 2-3.5 s to start,
on the other core) and only where there is a second core; `[service] backlog_worker = false`
turns it off. It stops when the poll ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from .classifying import classify_batch
from .domain import FetchedMail
from .incoming import Incoming, read_incoming

if TYPE_CHECKING:
    from classifier import Classifier

log = logging.getLogger("triage.pipeline")

# Messages in one poll from which a second process pays for its start: it takes 2-3.5 s to be ready (a new
# interpreter importing scikit-learn while this one works), the time this process needs for 300-500
# messages; at 480 it was ready as the poll ended (measured), at 2,000 it read 31 of 40 batches.
BACKLOG_FROM = 1_000


def worth_starting(messages: int, enabled: bool) -> bool:
    """A backlog, a second core, and not turned off."""
    return enabled and messages >= BACKLOG_FROM and len(os.sched_getaffinity(0)) >= 2


class BacklogWorker:
    """One worker process for one poll: submit a fetched batch, get it back parsed and classified."""

    def __init__(self, classifier: Classifier, max_bytes: int, since: dt.date | None) -> None:
        self._since = since
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        # The classifier goes with the first call, not as the process's start arguments: the queue's
        # feeder thread sends it while this one works, where a start argument would block until the new
        # interpreter had imported scikit-learn to read it.
        self._ready = self._pool.submit(_start, classifier, max_bytes)
        self._broken = False
        self.batches = 0  # batches it was given
        self.peak_kib: int | None = None  # its peak memory, read when it stops

    def ready(self) -> bool:
        """True once the worker has started and nothing has gone wrong with it since."""
        if self._broken or not self._ready.done() or self._ready.cancelled():
            return False
        failure = self._ready.exception()
        if failure is not None:
            self.failed(failure)
            return False
        return True

    def started(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the worker to be ready (for tests: a poll never waits)."""
        try:
            self._ready.result(timeout=timeout)
        except Exception:
            pass
        return self.ready()

    @property
    def pid(self) -> int | None:
        """The worker's process id once it is ready (for tests and logs)."""
        return self._ready.result() if self.ready() else None

    def submit(self, batch: list[FetchedMail], now: dt.datetime) -> Future[list[Incoming]] | None:
        """The batch on its way to the worker, or None (the caller reads it): a pool found broken refuses
        new work at once."""
        try:
            future = self._pool.submit(_read_batch, batch, self._since, now)
        except Exception as exc:
            self.failed(exc)
            return None
        self.batches += 1
        return future

    def close(self) -> None:
        """Stop the worker (after the batch it is reading); say how much it did and its peak memory."""
        if self.batches and self.ready():
            try:
                self.peak_kib = self._pool.submit(_peak_kib).result(timeout=10)
            except Exception:
                pass
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.ready()  # a worker that could not start says why (once), even when the poll never asked it
        if self.batches:
            log.info("the backlog worker read %d batches (peak memory %s MiB)", self.batches,
                     "?" if self.peak_kib is None else self.peak_kib // 1024)

    def failed(self, exc: BaseException) -> None:
        """The worker could not start or answer for a batch (the caller reads it itself): no more batches
        to it, said once in the log."""
        if not self._broken:
            log.warning("the backlog worker stopped (%s): reading the rest of this poll in the service process",
                        type(exc).__name__)
        self._broken = True


# In the worker process ---------------------------------------------------------------------------

_classifier: Classifier | None = None
_max_bytes = 0


def _start(classifier: Classifier, max_bytes: int) -> int:
    global _classifier, _max_bytes
    _classifier, _max_bytes = classifier, max_bytes
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    from .reader_zygote import warm

    warm()  # its own attachment reader, started while the first batch is on its way
    return os.getpid()


def _exit_with_parent(parent: int) -> None:
    """A service killed outright (SIGKILL, OOM) cannot stop its worker, and the worker's queue never says
    so: it goes when it finds it has another parent, within half a second."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _peak_kib() -> int | None:
    """This process's peak resident memory (VmHWM), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None


def _read_batch(batch: list[FetchedMail], since: dt.date | None, now: dt.datetime) -> list[Incoming]:
    """Parse the batch and classify its messages in one call; should the classifier fail, they go back
    unclassified and the service classifies them (and logs why) as it does its own batches."""
    assert _classifier is not None
    incoming = [read_incoming(fetched, _max_bytes, since, now) for fetched in batch]
    wanted = [n for n, i in enumerate(incoming) if not i.recorded_only]
    try:
        verdicts = classify_batch([incoming[n].parsed for n in wanted], _classifier)
    except Exception:
        return incoming
    for n, verdict in zip(wanted, verdicts, strict=True):
        incoming[n] = replace(incoming[n], verdict=verdict)
    return incoming
