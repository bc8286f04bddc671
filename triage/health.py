"""Is the service working? One report for `status`, /healthz, /metrics and the health alerts.

The failure this guards against is the silent one: fetching stopped days ago and nobody noticed.
So every poll's outcome is recorded per mailbox, and a problem becomes an email to the admin
address (at most one per condition per hour, each one an event in the log).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable, TypeVar

import classifier
from replies import Draft

from .composing import compose
from .domain import OutboxKind
from .settings import Settings
from .domain import now
from .store import PollStatus, Store, WorkCounts

log = logging.getLogger("triage.health")
T = TypeVar("T")
ALERT_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Problem:
    condition: str  # a stable key, one alert per key per hour: "no_poll:<mailbox>", "outbox_failures", ...
    text: str


@dataclass(frozen=True)
class HealthReport:
    at: dt.datetime
    polls: tuple[PollStatus, ...]
    work: WorkCounts
    model_version: str
    problems: tuple[Problem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems


def check(settings: Settings, store: Store, at: dt.datetime | None = None) -> HealthReport:
    """The service's health now: polls, waiting work, outbox, parse failures and the model in use."""
    at = at or now()
    polls = tuple(store.health.poll_statuses())
    work = store.health.work_counts(at)
    problems = [*_poll_problems(polls, settings, at), *_work_problems(work, settings)]
    if not polls:
        problems.append(Problem("no_poll", "no poll has been recorded: is `ehc-triage run` running?"))
    return HealthReport(at, polls, work, _model_version(settings), tuple(problems))


def poll_problems(settings: Settings, store: Store, at: dt.datetime | None = None) -> list[Problem]:
    """Only the mailboxes' problems: what /healthz answers 503 for (a web app without a poller beside it
    has no polls, and that alone is not the web app's failure)."""
    return _poll_problems(store.health.poll_statuses(), settings, at or now())


def _poll_problems(polls: tuple[PollStatus, ...] | list[PollStatus], settings: Settings,
                   at: dt.datetime) -> list[Problem]:
    stale = dt.timedelta(minutes=settings.health.poll_stale_minutes)
    problems = []
    for p in polls:
        since = p.last_success_at
        if since is None or at - since > stale:
            when = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "ever"
            error = f"; last error: {p.last_error}" if p.last_error else ""
            problems.append(Problem(f"no_poll:{p.source}", f"{p.source}: no successful poll {when}{error}"))
    return problems


def _work_problems(work: WorkCounts, settings: Settings) -> list[Problem]:
    problems = []
    if work.outbox_failed:
        problems.append(Problem("outbox_failures", f"{work.outbox_failed} outgoing email(s) failed: see "
                                                   f"`ehc-triage outbox list --status failed`"))
    limit = settings.health.parse_failure_limit
    if work.parse_failures_last_hour >= limit:
        problems.append(Problem("parse_failures", f"{work.parse_failures_last_hour} message(s) could not be parsed "
                                                  f"in the last hour (limit {limit})"))
    return problems


def _model_version(settings: Settings) -> str:
    return classifier.Registry(settings.classifier.model_dir).current_version() or "none"


def recorded(store: Store, source: str, poll: Callable[[], T], clock: Callable[[], dt.datetime] = now) -> Callable[[], T]:
    """`poll`, with each outcome recorded against `source` (a failure is recorded, then raised again)."""

    def run() -> T:
        try:
            result = poll()
        except Exception as exc:
            store.health.record_poll(source, clock(), error=f"{type(exc).__name__}: {exc}"[:500] or "failed")
            raise
        if not getattr(result, "skipped", False):  # another worker polled: their outcome is the one to record
            store.health.record_poll(source, clock())
        return result

    return run


def alert(settings: Settings, store: Store, report: HealthReport) -> list[str]:
    """Queue an email to [health] admin_address for each problem not alerted on within the hour;
    returns the conditions alerted. Without an admin address, problems are only logged."""
    address = settings.health.admin_address
    sent = []
    for problem in report.problems:
        log.error("unhealthy: %s", problem.text)
        if not address or not store.health.claim_alert(problem.condition, report.at, ALERT_EVERY):
            continue
        mail = compose(OutboxKind.HEALTH, _alert_text(problem, report), address, "",
                       settings.service.from_address, settings.service.from_name)
        store.outbox.queue_health_alert(mail, problem.condition, problem.text, shadow=settings.service.shadow)
        sent.append(problem.condition)
    return sent


def _alert_text(problem: Problem, report: HealthReport) -> Draft:
    """Counts and mailbox names only: never a message's content or sender."""
    w = report.work
    text = (f"The EHC triage service needs attention ({report.at:%Y-%m-%d %H:%M} UTC):\n\n  {problem.text}\n\n"
            f"Items waiting for caseworkers: {w.open_items} ({w.past_due} past their reply-by date)\n"
            f"Outbox: {w.outbox_pending} waiting, {w.outbox_failed} failed\n"
            f"Model: {report.model_version}\n\n"
            f"`ehc-triage status` on the server shows the whole picture. This alert is sent at most once an "
            f"hour for the same problem.\n")
    return Draft(subject=f"EHC triage service: {problem.text[:120]}", text=text, html="")
