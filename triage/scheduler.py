"""APScheduler wiring of poll_once; signals. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler

from .errors import TriageError

log = logging.getLogger("triage.scheduler")


def run_forever(poll: Callable[[], object], interval_seconds: int) -> None:
    """Poll now and then every interval, never two polls at once, until SIGTERM or SIGINT."""
    scheduler = BlockingScheduler(timezone="UTC")
    backoff = _Backoff(interval_seconds)

    def job() -> None:
        if not backoff.due():
            return
        try:
            poll()
            backoff.succeeded()
        except TriageError as exc:
            wait = backoff.failed()
            log.error("poll failed: %s (next try in %ds)", exc, wait)
        except Exception:
            wait = backoff.failed()
            log.exception("poll failed unexpectedly (next try in %ds)", wait)

    scheduler.add_job(job, "interval", seconds=interval_seconds, id="poll", max_instances=1, coalesce=True,
                      next_run_time=dt.datetime.now(dt.timezone.utc))

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: finishing the current poll and stopping", signal.Signals(signum).name)
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("service started: polling every %ds", interval_seconds)
    scheduler.start()
    log.info("service stopped cleanly")


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
