"""Retention (UK GDPR Art. 5(1)(e), storage limitation): closed items' personal data deleted after the
council's period, items never closed reported to a person instead.

An item is closed when its reply was sent, it was rejected, or it was handled elsewhere; its period
runs from that event. A recorded-only message (older than [service] since) has no item, so its period
runs from receipt. What is deleted is what erasure deletes (triage.store.privacy); the purge itself is
a `retention_purged` event, and `audit verify` still passes after it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from dateutil.relativedelta import relativedelta

from ..domain import now
from ..events import RetentionPurged
from ..settings import Settings
from ..store.personal_data import Removed
from ..store.privacy import Closed, StillOpen
from .outbox_files import delete_outbox_files
from .store_part import privacy_part

log = logging.getLogger("triage.privacy")
CHUNK = 200  # messages purged per transaction (and per event)


@dataclass(frozen=True)
class RetentionReport:
    at: dt.datetime
    months: int  # 0: retention is off
    cutoff: dt.datetime | None
    due: tuple[Closed, ...]  # purged, or (dry run) would be
    still_open: tuple[StillOpen, ...]
    open_months: int
    dry_run: bool
    events: int = 0
    events_kept: int = 0
    outbox: int = 0
    files: int = 0


def apply_retention(settings: Settings, store: object, at: dt.datetime | None = None, dry_run: bool = False,
                    actor: str = "system") -> RetentionReport:
    """Purge what the retention period has run out for (or, dry run, say what would be purged)."""
    at = at or now()
    months, open_months = settings.retention.closed_months, settings.retention.open_report_months
    privacy = privacy_part(store)
    still_open = tuple(privacy.open_before(at - relativedelta(months=open_months)))
    if still_open:
        log.warning("retention: %d item(s) not closed after %d months, kept for a person to decide: %s",
                    len(still_open), open_months, ", ".join(str(o.item_id) for o in still_open[:50]))
    if months == 0:
        return RetentionReport(at, 0, None, (), still_open, open_months, dry_run)
    cutoff = at - relativedelta(months=months)
    due = tuple(privacy.closed_before(cutoff))
    if dry_run or not due:
        return RetentionReport(at, months, cutoff, due, still_open, open_months, dry_run)
    totals = [0, 0, 0, 0]
    for start in range(0, len(due), CHUNK):
        chunk = due[start:start + CHUNK]
        removed = privacy.purge([c.message_id for c in chunk], "retention",
                                lambda removed, chunk=chunk: _event(chunk, removed, cutoff, months), actor)
        delete_outbox_files(settings.outbox.directory, removed.outbox_files)
        for n, value in enumerate((removed.events, removed.events_kept, removed.outbox, len(removed.outbox_files))):
            totals[n] += value
    privacy.compact()
    log.info("retention: personal data of %d message(s) closed before %s deleted", len(due), f"{cutoff:%Y-%m-%d}")
    return RetentionReport(at, months, cutoff, due, still_open, open_months, False, *totals)


def _event(chunk: tuple[Closed, ...], removed: Removed, cutoff: dt.datetime, months: int) -> RetentionPurged:
    """The purge's own event: which messages and items (ids only), the cut-off, and what it touched."""
    return RetentionPurged(messages=[c.message_id for c in chunk], items=[c.item_id for c in chunk if c.item_id],
                           cutoff=cutoff.isoformat(), months=months, events=removed.events, outbox=removed.outbox,
                           files=len(removed.outbox_files))


def retention_job(settings: Settings, store: object) -> dict[str, tuple[Callable[[], object], str]]:
    """`run`'s cron job: retention on [retention] cron (also while closed_months is 0: it reports open items)."""
    if not settings.retention.cron:
        return {}
    return {"retention": (lambda: apply_retention(settings, store), settings.retention.cron)}


def report_lines(report: RetentionReport) -> list[str]:
    """What `retention run` prints: what was (or would be) deleted, and what is still open."""
    lines = []
    if report.months == 0:
        lines.append("retention is off ([retention] closed_months = 0): nothing is deleted")
    else:
        verb = "would delete" if report.dry_run else "deleted"
        lines.append(f"{verb} the personal data of {len(report.due)} message(s) closed before "
                     f"{report.cutoff:%Y-%m-%d} ({report.months} months)")
        for c in report.due:
            what = f"item {c.item_id} ({c.reference}, {c.status})" if c.item_id else f"message {c.message_id} " \
                                                                                    f"(recorded only)"
            lines.append(f"  {what}, closed {c.closed_at:%Y-%m-%d}")
        if not report.dry_run and report.due:
            lines.append(f"  {report.events} event(s) emptied of personal fields, {report.outbox} outgoing email(s) "
                         f"and {report.files} outbox file(s) removed")
            if report.events_kept:
                lines.append(f"  {report.events_kept} event(s) written before hash version 2 keep their text "
                             f"(removing it would break the audit chain)")
    if report.still_open:
        lines.append(f"{len(report.still_open)} item(s) not closed after {report.open_months} months (not deleted: "
                     f"close or erase them):")
        lines += [f"  item {o.item_id} ({o.reference}, {o.status}), received {o.received_at:%Y-%m-%d}"
                  for o in report.still_open]
    return lines


__all__ = ["RetentionReport", "apply_retention", "report_lines", "Removed"]
