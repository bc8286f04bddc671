"""What `ehc-triage run` runs: a poll job per mailbox (woken early by IDLE), sending, health, retraining.

Each mailbox has its own job, its own back-off and its own health record, so one mailbox whose
server is down or whose password expired never holds up the others. A poll that queued mail asks
the send job to run at once, so an acknowledgement leaves within seconds of the message arriving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Callable

from . import health, learning
from .domain import PollReport
from .errors import TriageError
from .intake import MailSource
from .learning import CurrentModel
from .pipeline import Triage, poll_once
from .privacy.retention import retention_job
from .scheduler import Helper, OnDemand
from .service import mail_sources, send_outbox
from .settings import Settings
from .store import Store
from .watching import watchers_for

log = logging.getLogger("triage.running")
HEALTH_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class Jobs:
    """Everything run_forever needs: interval jobs, cron jobs and helpers with threads of their own."""

    every: dict[str, tuple[Callable[[], object], int]]
    cron: dict[str, tuple[Callable[[], object], str]]
    helpers: tuple[Helper, ...]


def service_jobs(settings: Settings, store: Store, triage: Triage) -> Jobs:
    model = CurrentModel(triage, learning.registry(settings))
    send = OnDemand("send", lambda: send_outbox(settings, store))
    polls: dict[str, OnDemand] = {}
    for source in mail_sources(settings):
        polls[source.name] = OnDemand(f"poll {source.name}", _poll_then_send(store, source, model, send))
    every: dict[str, tuple[Callable[[], object], int]] = {
        job.name: (job, settings.service.poll_interval_seconds) for job in polls.values()}
    every["send"] = (send, settings.outbox.send_interval_seconds)
    every["health"] = (lambda: health.alert(settings, store, health.check(settings, store)), HEALTH_INTERVAL_SECONDS)
    cron = settings.classifier.retrain_cron
    return Jobs(
        every=every,
        cron={**({"retrain": (lambda: learning.retrain_model(settings, store), cron)} if cron else {}),
              **retention_job(settings, store)},
        helpers=tuple(watchers_for(settings.mailboxes, lambda name: polls[name].soon)),
    )


def _poll_then_send(store: Store, source: MailSource, model: CurrentModel, send: OnDemand) -> Callable[[], PollReport]:
    recorded = health.recorded(store, source.name, lambda: poll_once(source, model.triage()))

    def poll() -> PollReport:
        report = recorded()
        if report.queued:
            send.soon()
        return report

    return poll


def poll_each(settings: Settings, store: Store, triage: Triage) -> dict[str, PollReport | Exception]:
    """Poll every mailbox once (`poll --once`, the demo): each one's report, or the error that stopped it."""
    results: dict[str, PollReport | Exception] = {}
    for source in mail_sources(settings):
        try:
            results[source.name] = health.recorded(store, source.name, partial(poll_once, source, triage))()
        except Exception as exc:  # recorded against the mailbox; the next mailbox still gets its poll
            if not isinstance(exc, TriageError):
                log.exception("polling %s failed unexpectedly", source.name)
            results[source.name] = exc
    return results
