"""APScheduler wiring of the jobs (each mailbox's poll, sending, health), the web server's thread and the
IDLE watchers beside them; signals. Nothing else."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Callable, Protocol

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from classifier import ClassifierError

from .errors import TriageError

log = logging.getLogger("triage.scheduler")


class Server(Protocol):
    """A server to run in a thread beside the jobs (the web app): run() blocks until close()."""

    def run(self) -> None: ...
    def close(self) -> None: ...


class Helper(Protocol):
    """Something with threads of its own to start with the jobs and stop with them (an IDLE watcher)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


class OnDemand:
    """A job that can also be asked to run now, from any thread, and never runs twice at once: asking while
    it runs makes it run once more when it finishes, so no request is lost and none waits for a tick.

    The scheduler calls it on its interval (the safety net); an IDLE watcher or a finished poll calls
    soon() (push).
    """

    def __init__(self, name: str, function: Callable[[], object]) -> None:
        self.name = name
        self.function = function
        self._running = threading.Lock()
        self._wanted = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def __call__(self) -> None:
        self._wanted.set()
        while self._wanted.is_set():
            if not self._running.acquire(blocking=False):
                return  # the run in progress sees the request when it finishes
            try:
                while self._wanted.is_set():
                    self._wanted.clear()
                    self.function()
            finally:
                self._running.release()

    def soon(self) -> None:
        """Run in a thread of its own now (or once more after the run in progress); failures are logged."""
        thread = threading.Thread(target=_logged(self.name, self), name=self.name, daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def join(self, timeout: float) -> None:
        """Wait for runs started by soon() to finish (at stop: the poll in progress ends cleanly)."""
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


def run_forever(jobs: dict[str, tuple[Callable[[], object], int]], web: Server | None = None,
                cron_jobs: dict[str, tuple[Callable[[], object], str]] | None = None,
                helpers: list[Helper] | tuple[Helper, ...] = ()) -> None:
    """Run each job (name -> (function, interval in seconds)) now and then every interval, and each cron
    job (name -> (function, crontab expression in UTC)) when its time comes, never two runs of one job at
    once, until SIGTERM or SIGINT; with `web`, serve it in a thread meanwhile; start the helpers with the
    jobs and stop them after."""
    scheduler = BlockingScheduler(timezone="UTC")
    for name, (function, interval) in jobs.items():
        scheduler.add_job(_guarded(name, function, interval), "interval", seconds=interval, id=name,
                          max_instances=1, coalesce=True, next_run_time=dt.datetime.now(dt.timezone.utc))
    for name, (function, crontab) in (cron_jobs or {}).items():
        scheduler.add_job(_logged(name, function), CronTrigger.from_crontab(crontab, timezone="UTC"), id=name,
                          max_instances=1, coalesce=True)

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: finishing the current poll and stopping", signal.Signals(signum).name)
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("service started: %s", ", ".join([f"{n} every {i}s" for n, (_, i) in jobs.items()]
                                              + [f"{n} at '{c}'" for n, (_, c) in (cron_jobs or {}).items()]))
    thread = None
    if web is not None:
        thread = threading.Thread(target=web.run, name="web", daemon=True)
        thread.start()
    for helper in helpers:
        helper.start()
    try:
        scheduler.start()
    finally:
        for helper in helpers:
            helper.stop()
        for function, _ in jobs.values():
            if isinstance(function, OnDemand):
                function.join(timeout=60)
        if web is not None and thread is not None:
            web.close()
            thread.join(timeout=10)
    log.info("service stopped cleanly")


def _guarded(name: str, function: Callable[[], object], interval: int) -> Callable[[], None]:
    """A job that logs its failures and backs off after them, instead of dying."""
    backoff = _Backoff(interval)

    def job() -> None:
        if not backoff.due():
            return
        try:
            function()
            backoff.succeeded()
        except TriageError as exc:
            log.error("%s failed: %s (next try in %ds)", name, exc, backoff.failed())
        except Exception:
            log.exception("%s failed unexpectedly (next try in %ds)", name, backoff.failed())

    return job


def _logged(name: str, function: Callable[[], object]) -> Callable[[], None]:
    """A scheduled job that logs its failure and waits for its next time."""

    def job() -> None:
        try:
            function()
        except (TriageError, ClassifierError) as exc:
            log.error("%s failed: %s", name, exc)
        except Exception:
            log.exception("%s failed unexpectedly", name)

    return job


class _Backoff:
    """After a failure, skip ticks so retries wait 1, 2, 4 ... intervals (at most 32)."""

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.failures = 0
        self.skip = 0

    def due(self) -> bool:
        if self.skip > 0:
            self.skip -= 1
            return False
        return True

    def failed(self) -> int:
        self.failures += 1
        self.skip = min(2 ** (self.failures - 1), 32) - 1
        return (self.skip + 1) * self.interval

    def succeeded(self) -> None:
        self.failures = 0
        self.skip = 0
