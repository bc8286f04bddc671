"""The Store's health side: each mailbox's last poll, the counts `status` and /healthz report, and the
once-an-hour bookkeeping of health alerts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select, update

from ..domain import OPEN_STATUSES, OutboxStatus
from ..events import ParseFailed, Received
from .database import Database
from .tables import EventRow, HealthAlertRow, ItemRow, OutboxRow, PollStatusRow

_OPEN = tuple(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class PollStatus:
    source: str
    last_attempt_at: dt.datetime
    last_success_at: dt.datetime | None
    last_error: str
    consecutive_failures: int


@dataclass(frozen=True)
class WorkCounts:
    """What is waiting: items for caseworkers, mail for the outbox, and recent parse failures."""

    open_items: int
    past_due: int
    outbox_pending: int
    oldest_pending_at: dt.datetime | None
    outbox_failed: int
    messages_last_hour: int
    parse_failures_last_hour: int


class Health:
    """Poll outcomes, work counts and alert bookkeeping."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def ping(self) -> bool:
        """Whether the database answers."""
        with self.db.reading() as s:
            return s.scalar(select(literal(1))) == 1

    def record_poll(self, source: str, at: dt.datetime, error: str = "") -> None:
        """Note one poll of `source`: a success when `error` is empty."""
        with self.db.writing() as s:
            row = s.get(PollStatusRow, source)
            if row is None:
                row = PollStatusRow(source=source, last_attempt_at=at, last_success_at=None, last_error="",
                                    consecutive_failures=0)
                s.add(row)
            row.last_attempt_at = at
            if error:
                row.last_error, row.consecutive_failures = error[:2000], row.consecutive_failures + 1
            else:
                row.last_success_at, row.last_error, row.consecutive_failures = at, "", 0

    def poll_statuses(self) -> list[PollStatus]:
        with self.db.reading() as s:
            return [PollStatus(r.source, r.last_attempt_at, r.last_success_at, r.last_error, r.consecutive_failures)
                    for r in s.scalars(select(PollStatusRow).order_by(PollStatusRow.source))]

    def work_counts(self, now: dt.datetime) -> WorkCounts:
        hour_ago = now - dt.timedelta(hours=1)
        with self.db.reading() as s:
            def count(query: Any) -> int:
                return s.scalar(query) or 0

            open_items = count(select(func.count()).select_from(ItemRow).where(ItemRow.status.in_(_OPEN)))
            past_due = count(select(func.count()).select_from(ItemRow)
                             .where(ItemRow.status.in_(_OPEN), ItemRow.due_at < now))
            pending = (OutboxRow.status == OutboxStatus.PENDING.value)
            return WorkCounts(
                open_items=open_items,
                past_due=past_due,
                outbox_pending=count(select(func.count()).select_from(OutboxRow).where(pending)),
                oldest_pending_at=s.scalar(select(func.min(OutboxRow.created_at)).where(pending)),
                outbox_failed=count(select(func.count()).select_from(OutboxRow)
                                    .where(OutboxRow.status == OutboxStatus.FAILED.value)),
                # By when the service stored them (their events), not by the date the mail claims.
                messages_last_hour=count(select(func.count()).select_from(EventRow)
                                         .where(EventRow.name == Received.name, EventRow.at >= hour_ago)),
                parse_failures_last_hour=count(select(func.count()).select_from(EventRow)
                                               .where(EventRow.name == ParseFailed.name, EventRow.at >= hour_ago)),
            )

    def claim_alert(self, condition: str, now: dt.datetime, every: dt.timedelta) -> bool:
        """True (and the time noted) when no alert for `condition` went out within `every`; one caller wins."""
        with self.db.writing() as s:
            row = s.get(HealthAlertRow, condition)
            if row is None:
                s.add(HealthAlertRow(condition=condition, last_sent_at=now))
                return True
            done = s.execute(update(HealthAlertRow)
                             .where(HealthAlertRow.condition == condition, HealthAlertRow.last_sent_at <= now - every)
                             .values(last_sent_at=now))
            return bool(done.rowcount)
