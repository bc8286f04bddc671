"""GET /healthz (no sign-in): 503 when the database does not answer or a mailbox has had no successful
poll for [health] poll_stale_minutes; GET /metrics: the same figures in Prometheus text format.

Anyone may ask /healthz, so an anonymous caller gets the status alone: a mailbox's name holds the IMAP
login and host, and a problem's text the server's refusal. A signed-in admin gets the details.
/metrics gives counts, times and mailbox names only: never a message, a sender or a caseworker.
"""

from __future__ import annotations

import logging
from typing import Iterator

from flask import Blueprint, Response, current_app, g, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .. import health
from ..domain import Role
from ..settings import Settings
from ..store import Store
from .security import public

bp = Blueprint("health", __name__)
log = logging.getLogger("triage.web")


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    store: Store = current_app.extensions["store"]
    try:
        store.health.ping()
        problems = health.poll_problems(current_app.extensions["settings"], store)
        polls = store.health.poll_statuses()
    except Exception as exc:  # any failure to answer is "unhealthy", whatever the driver raised
        log.error("health check: the database did not answer: %s", exc)
        return (jsonify(status="error", database="unavailable") if _admin() else jsonify(status="error")), 503
    code, status = (503, "error") if problems else (200, "ok")
    if not _admin():
        return jsonify(status=status), code
    mailboxes = {p.source: p.last_success_at.isoformat() if p.last_success_at else None for p in polls}
    details = {"problems": [p.text for p in problems]} if problems else {}
    return jsonify(status=status, database="ok", last_successful_poll=mailboxes, **details), code


def _admin() -> bool:
    """Is the caller a signed-in admin (the only one shown mailbox names and the servers' errors)?"""
    user = getattr(g, "user", None)
    return user is not None and user.role.at_least(Role.ADMIN)


@bp.route("/metrics")
@public
def metrics() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ServiceCollector(current_app.extensions["settings"], current_app.extensions["store"]))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _ServiceCollector(Collector):
    """Reads the health report at scrape time, so the figures are the database's, whichever worker polled."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def collect(self) -> Iterator[Metric]:
        report = health.check(self.settings, self.store)
        w = report.work
        last = GaugeMetricFamily("ehc_last_successful_poll_timestamp_seconds",
                                 "Unix time of each mailbox's last successful poll", labels=["mailbox"])
        failures = GaugeMetricFamily("ehc_poll_consecutive_failures", "Failed polls since the last success",
                                     labels=["mailbox"])
        for p in report.polls:
            if p.last_success_at is not None:
                last.add_metric([p.source], p.last_success_at.timestamp())
            failures.add_metric([p.source], p.consecutive_failures)
        yield last
        yield failures
        yield GaugeMetricFamily("ehc_items_waiting", "Queue items waiting for a caseworker", value=w.open_items)
        yield GaugeMetricFamily("ehc_items_past_due", "Waiting items past their reply-by date", value=w.past_due)
        outbox = GaugeMetricFamily("ehc_outbox_messages", "Outgoing emails by status", labels=["status"])
        outbox.add_metric(["pending"], w.outbox_pending)
        outbox.add_metric(["failed"], w.outbox_failed)
        yield outbox
        yield GaugeMetricFamily("ehc_parse_failures_last_hour", "Messages that could not be parsed in the last hour",
                                value=w.parse_failures_last_hour)
        yield GaugeMetricFamily("ehc_healthy", "1 when `ehc-triage status` finds no problem", value=int(report.healthy))
        model = GaugeMetricFamily("ehc_model_info", "The classifier version in use", labels=["version"])
        model.add_metric([report.model_version], 1)
        yield model
