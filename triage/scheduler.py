"""APScheduler wiring of poll_once and send_due, the web server's thread beside them; signals. Nothing else."""

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


def run_forever(jobs: dict[str, tuple[Callable[[], object], int]], web: Server | None = None,
                cron_jobs: dict[str, tuple[Callable[[], object], str]] | None = None) -> None:
    """Run each job (name -> (function, interval in seconds)) now and then every interval, and each cron
    job (name -> (function, crontab expression in UTC)) when its time comes, never two runs of one job at
    once, until SIGTERM or SIGINT; with `web`, serve it in a thread meanwhile."""
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
    try:
        scheduler.start()
    finally:
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
