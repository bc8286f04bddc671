"""The supervisor's reads: the filtered event log, one message's timeline and the dashboard's figures.

Everything here only reads. The log joins items and classifications only when a filter needs
them, so an unfiltered page is a walk down the events' primary key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..domain import Status
from ..domain.decision_records import FLAG_CLEARED
from ..errors import NotFound
from ..events import DRAFT_VERSION_KEYS, Classified
from .dashboard import dashboard, midnight
from .database import Database
from .item_views import draft_version
from .records import ClassificationView, DraftVersion
from .report_records import (
    Dashboard,
    LogChoices,
    LogPage,
    LogQuery,
    LogRow,
    OutboxSummary,
    Timeline,
    TimelineStep,
)
from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow, OutboxRow


class Reports:
    """Read-only queries for supervisors: the event log, one message's timeline, the dashboard."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the log -----------------------------------------------------------------------------

    def audit_log(self, query: LogQuery) -> LogPage:
        """One page of the event log, newest first, narrowed by the query's filters."""
        ids = _filtered_event_ids(query)
        page = max(1, query.page)
        with self.db.reading() as s:
            total = s.scalar(select(func.count()).select_from(ids.subquery())) or 0
            page_ids = list(s.scalars(ids.order_by(EventRow.id.desc())
                                      .limit(query.per_page).offset((page - 1) * query.per_page)))
            return LogPage(_log_rows(s, page_ids), total, page, query.per_page)

    def audit_log_rows(self, query: LogQuery, chunk: int = 1000) -> Iterator[LogRow]:
        """Every event the query's filters keep (its page is ignored), newest first, read `chunk` at a
        time so a long log never sits in memory whole."""
        ids = _filtered_event_ids(query)
        before: int | None = None
        while True:
            with self.db.reading() as s:
                page_ids = list(s.scalars((ids if before is None else ids.where(EventRow.id < before))
                                          .order_by(EventRow.id.desc()).limit(chunk)))
                rows = _log_rows(s, page_ids)
            yield from rows
            if len(page_ids) < chunk:
                return
            before = page_ids[-1]

    def log_choices(self) -> LogChoices:
        """Who has acted, which model versions classified mail, and which kinds of event exist."""
        with self.db.reading() as s:
            return LogChoices(
                actors=tuple(s.scalars(select(EventRow.actor).distinct().order_by(EventRow.actor))),
                model_versions=tuple(s.scalars(select(ClassificationRow.model_version).distinct()
                                               .order_by(ClassificationRow.model_version))),
                event_names=tuple(s.scalars(select(EventRow.name).distinct().order_by(EventRow.name))),
            )

    # -- one message -------------------------------------------------------------------------

    def timeline(self, item_id: int) -> Timeline:
        """Everything about one item's message, in order: its events (with the drafts they made),
        the classification behind it and every email written for it."""
        with self.db.reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            subject, from_address, received_at = s.execute(
                select(MessageRow.subject, MessageRow.from_address, MessageRow.received_at)
                .where(MessageRow.id == item.message_ref)).one()
            events = list(s.scalars(select(EventRow)
                                    .where(or_(EventRow.message_ref == item.message_ref, EventRow.item_ref == item_id))
                                    .order_by(EventRow.id)))
            drafts = {d.version: draft_version(d) for d in s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id))}
            return Timeline(
                item_id=item.id, reference=item.reference, status=Status(item.status), route=item.route,
                safeguarding=item.safeguarding, subject=subject, from_address=from_address, received_at=received_at,
                due_at=item.due_at, classification=_classification(s, item.message_ref),
                threshold=_threshold(events), steps=tuple(_step(e, drafts) for e in events),
                outbox=_outbox(s, item.message_ref, item_id),
            )

    def dashboard(self, today: dt.date, weeks: int = 12) -> Dashboard:
        """The dashboard's figures as of `today`, with weekly series over the last `weeks` weeks."""
        with self.db.reading() as s:
            return dashboard(s, today, weeks)


# -- the log's filters ---------------------------------------------------------------------------

def _filtered_event_ids(query: LogQuery) -> Select[tuple[int]]:
    """The ids of the events the query keeps, joining the item (by message) and its classification
    only when a filter is about them."""
    ids = select(EventRow.id)
    about_item = (query.route, query.model_version, query.overridden, query.safeguarding) != (None,) * 4
    about_classification = query.model_version is not None or query.overridden is not None
    if about_item:
        ids = ids.join(ItemRow, _item_of_event())
    if about_classification:
        ids = ids.join(ClassificationRow, ClassificationRow.message_ref == ItemRow.message_ref)
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(EventRow.at >= midnight(query.start))
    if query.end is not None:
        conditions.append(EventRow.at < midnight(query.end + dt.timedelta(days=1)))
    if query.actor is not None:
        conditions.append(EventRow.actor == query.actor)
    if query.name is not None:
        conditions.append(EventRow.name == query.name)
    if query.route is not None:
        conditions.append(ItemRow.route == query.route)
    if query.safeguarding is not None:  # ever flagged: a flag cleared as false still counts
        ever = or_(ItemRow.safeguarding.is_(True), ItemRow.safeguarding_action == FLAG_CLEARED)
        conditions.append(ever if query.safeguarding else ~ever)
    if query.model_version is not None:
        conditions.append(ClassificationRow.model_version == query.model_version)
    if query.overridden is not None:
        conditions.append((ItemRow.route != ClassificationRow.label) if query.overridden
                          else (ItemRow.route == ClassificationRow.label))
    return ids.where(*conditions)


def _item_of_event() -> Any:
    """The item an event is about: the one it names (viewed, attachment downloaded and every decision
    carry item_ref), else the item of its message (received, parsed ... came before the item existed)."""
    return or_(ItemRow.id == EventRow.item_ref, ItemRow.message_ref == EventRow.message_ref)


def _log_rows(s: Session, ids: list[int]) -> tuple[LogRow, ...]:
    """These events, newest first, each with the item of its message (events before the item existed,
    such as received and parsed, share its message)."""
    rows = s.execute(select(EventRow, ItemRow.id, ItemRow.reference)
                     .outerjoin(ItemRow, _item_of_event())
                     .where(EventRow.id.in_(ids))
                     .order_by(EventRow.id.desc()))
    return tuple(LogRow(e.id, e.at, e.actor, e.name, item_id, reference, dict(e.data or {}))
                 for e, item_id, reference in rows)


# -- the timeline's parts ------------------------------------------------------------------------

def _classification(s: Session, message_ref: int) -> ClassificationView | None:
    c = s.scalar(select(ClassificationRow).where(ClassificationRow.message_ref == message_ref)
                 .order_by(ClassificationRow.id.desc()).limit(1))
    if c is None:
        return None
    return ClassificationView.from_row(c)


def _threshold(events: list[EventRow]) -> float | None:
    for e in events:
        if e.name == Classified.name and isinstance((e.data or {}).get("threshold"), (int, float)):
            return float(e.data["threshold"])
    return None


def _step(e: EventRow, drafts: dict[int, DraftVersion]) -> TimelineStep:
    data = dict(e.data or {})
    key = DRAFT_VERSION_KEYS.get(e.name)
    draft = drafts.get(data.get(key)) if key else None
    return TimelineStep(e.id, e.at, e.actor, e.name, data, draft)


def _outbox(s: Session, message_ref: int, item_id: int) -> tuple[OutboxSummary, ...]:
    rows = s.execute(select(OutboxRow.id, OutboxRow.kind, OutboxRow.to_address, OutboxRow.status,
                            OutboxRow.created_at, OutboxRow.sent_at, OutboxRow.attempts, OutboxRow.last_error)
                     .where(or_(OutboxRow.message_ref == message_ref, OutboxRow.item_ref == item_id))
                     .order_by(OutboxRow.id))
    return tuple(OutboxSummary(*row) for row in rows)
