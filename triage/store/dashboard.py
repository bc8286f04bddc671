"""The supervisor dashboard's figures: small aggregates from the database, dates bucketed in Python (the same
on SQLite and PostgreSQL). Weekly series count messages by the week they were received."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from classifier.labels import Route

from ..domain import OPEN_STATUSES, OutboxKind, OutboxStatus, Status
from ..events import AcknowledgementSuppressed, Approved, ModelTrained, OutboxQueued, Sent
from .report_records import (
    AcknowledgementWeek,
    ApprovalTime,
    Dashboard,
    ModelFigures,
    ModelScore,
    OverrideRate,
    PastDueItem,
    RetrainResult,
)
from .tables import ClassificationRow, EventRow, ItemRow, MessageRow

UTC = dt.timezone.utc

# A caseworker has decided these items: they count towards override rates and the confusion matrix.
DECIDED = tuple(s.value for s in (Status.APPROVED, Status.SENT, Status.FAILED, Status.REJECTED,
                                  Status.HANDLED_ELSEWHERE))
# Nobody has answered these yet (the queue's "to do"): past their reply-by date, they are overdue.
UNANSWERED = tuple(s.value for s in (*OPEN_STATUSES, Status.FAILED))
# The events that say what became of a message's acknowledgement, and the dashboard's name for each.
ACKNOWLEDGEMENT_OUTCOMES = {
    Sent(OutboxKind.ACKNOWLEDGEMENT, 0, "", 0, "").event_name: "sent",
    AcknowledgementSuppressed.name: "suppressed",
    OutboxQueued(OutboxKind.ACKNOWLEDGEMENT, "", OutboxStatus.WOULD_SEND).event_name: "would_send",
}
PAST_DUE_SHOWN = 5
RETRAINS_SHOWN = 10


def dashboard(s: Session, today: dt.date, weeks: int = 12) -> Dashboard:
    """The dashboard's figures as of `today`, with weekly series over the last `weeks` weeks."""
    mondays = _mondays(today, weeks)
    start, end = midnight(mondays[0]), midnight(mondays[-1] + dt.timedelta(days=7))
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


# -- the dashboard's parts -----------------------------------------------------------------------

def _mondays(today: dt.date, weeks: int) -> tuple[dt.date, ...]:
    """The Mondays starting the last `weeks` weeks, this week's last."""
    this_week = today - dt.timedelta(days=today.weekday())
    return tuple(this_week - dt.timedelta(weeks=n) for n in range(max(1, weeks) - 1, -1, -1))


def midnight(day: dt.date) -> dt.datetime:
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
    return tuple(Route) + tuple(sorted(seen - set(Route)))


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
                     .where(EventRow.name == Approved.name))
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
                  for outcome in set(ACKNOWLEDGEMENT_OUTCOMES.values())}
    return tuple(AcknowledgementWeek(monday, by_outcome["sent"][n], by_outcome["suppressed"][n],
                                     by_outcome["would_send"][n]) for n, monday in enumerate(mondays))


def _past_due(s: Session, today: dt.date) -> tuple[int, tuple[PastDueItem, ...]]:
    """How many unanswered items passed their reply-by date before today, and the longest overdue."""
    overdue = (ItemRow.status.in_(UNANSWERED), ItemRow.due_at < midnight(today))
    count = s.scalar(select(func.count()).select_from(ItemRow).where(*overdue)) or 0
    oldest = s.execute(select(ItemRow.id, ItemRow.reference, ItemRow.route, ItemRow.due_at).where(*overdue)
                       .order_by(ItemRow.due_at, ItemRow.id).limit(PAST_DUE_SHOWN))
    return count, tuple(PastDueItem(i, reference, route, due, (today - due.date()).days)
                        for i, reference, route, due in oldest)


def _retrain_results(s: Session) -> tuple[RetrainResult, ...]:
    events = s.scalars(select(EventRow).where(EventRow.name == ModelTrained.name)
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
