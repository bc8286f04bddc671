"""The Store's supervisor side: the filtered event log, one message's timeline and the dashboard's figures.

Everything here only reads. The log joins items and classifications only when a filter needs
them, so an unfiltered page is a walk down the events' primary key; the dashboard asks the
database for small aggregates and buckets dates in Python, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..domain import OPEN_STATUSES, Status
from ..errors import NotFound
from ..settings import ROUTES
from .records import (
    AcknowledgementWeek,
    ApprovalTime,
    ClassificationView,
    Dashboard,
    DraftVersion,
    LogChoices,
    LogPage,
    LogQuery,
    LogRow,
    ModelFigures,
    ModelScore,
    OutboxSummary,
    OverrideRate,
    PastDueItem,
    RetrainResult,
    Timeline,
    TimelineStep,
)
from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow, OutboxRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

UTC = dt.timezone.utc

# A caseworker has decided these items: they count towards override rates and the confusion matrix.
DECIDED = tuple(s.value for s in (Status.APPROVED, Status.SENT, Status.FAILED, Status.REJECTED,
                                  Status.HANDLED_ELSEWHERE))
# Nobody has answered these yet (the queue's "to do"): past their reply-by date, they are overdue.
UNANSWERED = tuple(s.value for s in (*OPEN_STATUSES, Status.FAILED))
# The events that say what became of a message's acknowledgement, and the dashboard's name for each.
ACKNOWLEDGEMENT_OUTCOMES = {"acknowledgement_sent": "sent", "acknowledgement_suppressed": "suppressed",
                            "acknowledgement_would_send": "would_send"}
# Events that made a draft version, and the data key holding its number.
DRAFT_VERSION_KEYS = {"drafted": "version", "draft_edited": "version", "route_changed": "draft_version"}
PAST_DUE_SHOWN = 5
RETRAINS_SHOWN = 10


class SupervisionMixin:
    """Read-only queries for supervisors; mixed into Store, which provides _reading."""

    if TYPE_CHECKING:
        def _reading(self) -> AbstractContextManager[Session]: ...

    # -- the log -----------------------------------------------------------------------------

    def audit_log(self, query: LogQuery) -> LogPage:
        """One page of the event log, newest first, narrowed by the query's filters."""
        ids = _filtered_event_ids(query)
        page = max(1, query.page)
        with self._reading() as s:
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
            with self._reading() as s:
                page_ids = list(s.scalars((ids if before is None else ids.where(EventRow.id < before))
                                          .order_by(EventRow.id.desc()).limit(chunk)))
                rows = _log_rows(s, page_ids)
            yield from rows
            if len(page_ids) < chunk:
                return
            before = page_ids[-1]

    def log_choices(self) -> LogChoices:
        """Who has acted, which model versions classified mail, and which kinds of event exist."""
        with self._reading() as s:
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
        with self._reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            subject, from_address, received_at = s.execute(
                select(MessageRow.subject, MessageRow.from_address, MessageRow.received_at)
                .where(MessageRow.id == item.message_ref)).one()
            events = list(s.scalars(select(EventRow)
                                    .where(or_(EventRow.message_ref == item.message_ref, EventRow.item_ref == item_id))
                                    .order_by(EventRow.id)))
            drafts = {d.version: DraftVersion(d.version, d.route, d.subject, d.body_text, d.body_html, d.author,
                                              d.created_at, dict(d.meta or {}))
                      for d in s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id))}
            return Timeline(
                item_id=item.id, reference=item.reference, status=Status(item.status), route=item.route,
                safeguarding=item.safeguarding, subject=subject, from_address=from_address, received_at=received_at,
                due_at=item.due_at, classification=_classification(s, item.message_ref),
                threshold=_threshold(events), steps=tuple(_step(e, drafts) for e in events),
                outbox=_outbox(s, item.message_ref, item_id),
            )

    # -- the dashboard -----------------------------------------------------------------------

    def dashboard(self, today: dt.date, weeks: int = 12) -> Dashboard:
        """The dashboard's figures as of `today`, with weekly series over the last `weeks` weeks."""
        mondays = _mondays(today, weeks)
        start, end = _midnight(mondays[0]), _midnight(mondays[-1] + dt.timedelta(days=7))
        with self._reading() as s:
            arrivals = _arrivals(s, start, end)
            decided = _decided_pairs(s)
            approvals = _approval_minutes(s)
            acknowledgements = _acknowledgement_weeks(s, mondays, start, end)
            past_due, oldest = _past_due(s, today)
            retraining = _retrain_results(s)
        routes = _routes(decided, arrivals)
        return Dashboard(
            today=today, routes=routes, weeks=mondays,
            messages_per_week={route: _per_week(mondays, (at for r, _, at in arrivals if r == route))
                               for route in routes},
            safeguarding_per_week=_per_week(mondays, (at for _, flagged, at in arrivals if flagged)),
            acknowledgements=acknowledgements,
            override_rates=tuple(_override_rate(label, decided) for label in routes),
            confusion={label: {route: decided.get((label, route), 0) for route in routes} for label in routes},
            approval_time=_approval_time(None, [m for _, m in approvals]),
            approval_time_by_route=tuple(_approval_time(route, [m for r, m in approvals if r == route])
                                         for route in routes),
            past_due=past_due, oldest_past_due=oldest, retraining=retraining,
        )


# -- the log's filters ---------------------------------------------------------------------------

def _filtered_event_ids(query: LogQuery) -> Select[tuple[int]]:
    """The ids of the events the query keeps, joining the item (by message) and its classification
    only when a filter is about them."""
    ids = select(EventRow.id)
    about_item = (query.route, query.model_version, query.overridden, query.safeguarding) != (None,) * 4
    about_classification = query.model_version is not None or query.overridden is not None
    if about_item:
        ids = ids.join(ItemRow, ItemRow.message_ref == EventRow.message_ref)
    if about_classification:
        ids = ids.join(ClassificationRow, ClassificationRow.message_ref == EventRow.message_ref)
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(EventRow.at >= _midnight(query.start))
    if query.end is not None:
        conditions.append(EventRow.at < _midnight(query.end + dt.timedelta(days=1)))
    if query.actor is not None:
        conditions.append(EventRow.actor == query.actor)
    if query.name is not None:
        conditions.append(EventRow.name == query.name)
    if query.route is not None:
        conditions.append(ItemRow.route == query.route)
    if query.safeguarding is not None:
        conditions.append(ItemRow.safeguarding == query.safeguarding)
    if query.model_version is not None:
        conditions.append(ClassificationRow.model_version == query.model_version)
    if query.overridden is not None:
        conditions.append((ItemRow.route != ClassificationRow.label) if query.overridden
                          else (ItemRow.route == ClassificationRow.label))
    return ids.where(*conditions)


def _log_rows(s: Session, ids: list[int]) -> tuple[LogRow, ...]:
    """These events, newest first, each with the item of its message (events before the item existed,
    such as received and parsed, share its message)."""
    rows = s.execute(select(EventRow, ItemRow.id, ItemRow.reference)
                     .outerjoin(ItemRow, ItemRow.message_ref == EventRow.message_ref)
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
        if e.name == "classified" and isinstance((e.data or {}).get("threshold"), (int, float)):
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


# -- the dashboard's parts -----------------------------------------------------------------------

def _mondays(today: dt.date, weeks: int) -> tuple[dt.date, ...]:
    """The Mondays starting the last `weeks` weeks, this week's last."""
    this_week = today - dt.timedelta(days=today.weekday())
    return tuple(this_week - dt.timedelta(weeks=n) for n in range(max(1, weeks) - 1, -1, -1))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _per_week(mondays: tuple[dt.date, ...], moments: Iterable[dt.datetime]) -> tuple[int, ...]:
    counts = dict.fromkeys(mondays, 0)
    for at in moments:
        day = at.astimezone(UTC).date()
        monday = day - dt.timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return tuple(counts.values())


def _arrivals(s: Session, start: dt.datetime, end: dt.datetime) -> list[tuple[str, bool, dt.datetime]]:
    """(final route, safeguarding flag, received at) of each item whose message arrived in [start, end)."""
    rows = s.execute(select(ItemRow.route, ItemRow.safeguarding, MessageRow.received_at)
                     .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                     .where(MessageRow.received_at >= start, MessageRow.received_at < end))
    return [(route, flagged, at) for route, flagged, at in rows]


def _routes(decided: dict[tuple[str, str], int], arrivals: list[tuple[str, bool, dt.datetime]]) -> tuple[str, ...]:
    """The configured routes, then any other label found in the data (so no item goes uncounted)."""
    seen = {label for pair in decided for label in pair} | {route for route, _, _ in arrivals}
    return ROUTES + tuple(sorted(seen - set(ROUTES)))


def _decided_pairs(s: Session) -> dict[tuple[str, str], int]:
    """Decided items counted by (classifier label, final route)."""
    rows = s.execute(select(ClassificationRow.label, ItemRow.route, func.count())
                     .join(ClassificationRow, ClassificationRow.message_ref == ItemRow.message_ref)
                     .where(ItemRow.status.in_(DECIDED))
                     .group_by(ClassificationRow.label, ItemRow.route))
    return {(label, route): count for label, route, count in rows}


def _override_rate(label: str, decided: dict[tuple[str, str], int]) -> OverrideRate:
    total = sum(n for (given, _), n in decided.items() if given == label)
    return OverrideRate(label, total, total - decided.get((label, label), 0))


def _approval_minutes(s: Session) -> list[tuple[str, float]]:
    """(final route, minutes from receipt to approval) for every approved item."""
    rows = s.execute(select(ItemRow.route, EventRow.at, MessageRow.received_at)
                     .join(ItemRow, ItemRow.id == EventRow.item_ref)
                     .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                     .where(EventRow.name == "approved"))
    return [(route, (approved - received).total_seconds() / 60) for route, approved, received in rows]


def _approval_time(route: str | None, minutes: list[float]) -> ApprovalTime:
    return ApprovalTime(route, len(minutes), statistics.median(minutes) if minutes else None)


def _acknowledgement_weeks(s: Session, mondays: tuple[dt.date, ...], start: dt.datetime,
                           end: dt.datetime) -> tuple[AcknowledgementWeek, ...]:
    rows = s.execute(select(EventRow.name, MessageRow.received_at)
                     .join(MessageRow, MessageRow.id == EventRow.message_ref)
                     .where(EventRow.name.in_(ACKNOWLEDGEMENT_OUTCOMES),
                            MessageRow.received_at >= start, MessageRow.received_at < end)).all()
    by_outcome = {outcome: _per_week(mondays, (at for name, at in rows if ACKNOWLEDGEMENT_OUTCOMES[name] == outcome))
                  for outcome in ACKNOWLEDGEMENT_OUTCOMES.values()}
    return tuple(AcknowledgementWeek(monday, by_outcome["sent"][n], by_outcome["suppressed"][n],
                                     by_outcome["would_send"][n]) for n, monday in enumerate(mondays))


def _past_due(s: Session, today: dt.date) -> tuple[int, tuple[PastDueItem, ...]]:
    """How many unanswered items passed their reply-by date before today, and the longest overdue."""
    overdue = (ItemRow.status.in_(UNANSWERED), ItemRow.due_at < _midnight(today))
    count = s.scalar(select(func.count()).select_from(ItemRow).where(*overdue)) or 0
    oldest = s.execute(select(ItemRow.id, ItemRow.reference, ItemRow.route, ItemRow.due_at).where(*overdue)
                       .order_by(ItemRow.due_at, ItemRow.id).limit(PAST_DUE_SHOWN))
    return count, tuple(PastDueItem(i, reference, route, due, (today - due.date()).days)
                        for i, reference, route, due in oldest)


def _retrain_results(s: Session) -> tuple[RetrainResult, ...]:
    events = s.scalars(select(EventRow).where(EventRow.name == "model_trained")
                       .order_by(EventRow.id.desc()).limit(RETRAINS_SHOWN))
    return tuple(_retrain_result(e) for e in events)


def _retrain_result(e: EventRow) -> RetrainResult:
    data = e.data or {}
    return RetrainResult(
        at=e.at, actor=e.actor, candidate=_figures(data.get("candidate") or {}),
        current=_figures(data["current"]) if data.get("current") else None,
        decision=str(data.get("decision", "")), reasons=tuple(data.get("reasons") or ()),
        confirmed_labels=int(data.get("confirmed_labels") or 0),
    )


def _figures(data: dict[str, Any]) -> ModelFigures:
    return ModelFigures(str(data.get("version", "")), _score(data.get("frozen_test") or {}),
                        _score(data.get("holdout") or {}))


def _score(data: dict[str, Any]) -> ModelScore:
    return ModelScore(int(data.get("n") or 0), data.get("macro_f1"), data.get("safeguarding_recall"))
