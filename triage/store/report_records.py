"""The plain values the Store hands the supervisor pages: the event log, a message's timeline, the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..domain import Status
from .records import ClassificationView, DraftVersion, Page


@dataclass(frozen=True)
class LogQuery:
    """Which events the supervisor's log shows, and which page of them; None means no filter.

    `start` and `end` are whole UTC days, both included. `route`, `model_version`, `overridden`
    and `safeguarding` describe the item an event belongs to (its final route, its classifier's
    version, whether that route differs from the classifier's label, its safeguarding flag), so
    they keep only events about items. `actor` is the username (or "system") that acted.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    route: str | None = None
    actor: str | None = None
    model_version: str | None = None
    overridden: bool | None = None
    safeguarding: bool | None = None
    name: str | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class LogRow:
    """One event of the log, with the case reference of the item it concerns (if any)."""

    id: int
    at: dt.datetime
    actor: str
    name: str
    item_id: int | None
    reference: str | None
    data: dict[str, Any]


LogPage = Page[LogRow]


@dataclass(frozen=True)
class LogChoices:
    """The values the log's filters can take, as found in the database."""

    actors: tuple[str, ...]
    model_versions: tuple[str, ...]
    event_names: tuple[str, ...]


@dataclass(frozen=True)
class OutboxSummary:
    """One email the service wrote for a message, as it stands now (without its bytes)."""

    id: int
    kind: str
    to_address: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    last_error: str


@dataclass(frozen=True)
class TimelineStep:
    """One event in a message's life; a step that made a draft version carries that draft."""

    id: int
    at: dt.datetime
    actor: str
    name: str
    data: dict[str, Any]
    draft: DraftVersion | None = None


@dataclass(frozen=True)
class Timeline:
    """Everything about one message, for a supervisor: what the classifier said, and every step since."""

    item_id: int
    reference: str
    status: Status
    route: str
    safeguarding: bool
    subject: str
    from_address: str
    received_at: dt.datetime
    due_at: dt.datetime | None
    classification: ClassificationView | None
    threshold: float | None  # the classifier's abstain threshold, when its event recorded one
    steps: tuple[TimelineStep, ...]
    outbox: tuple[OutboxSummary, ...]

    @property
    def overridden(self) -> bool:
        return self.classification is not None and self.classification.label != self.route


@dataclass(frozen=True)
class OverrideRate:
    """Of the decided items the classifier gave one label, how many a caseworker sent another way."""

    label: str
    decided: int
    overridden: int

    @property
    def rate(self) -> float | None:
        return self.overridden / self.decided if self.decided else None


@dataclass(frozen=True)
class ApprovalTime:
    """Median minutes from a message's receipt to its approval; `route` None is every route."""

    route: str | None
    approved: int
    median_minutes: float | None


@dataclass(frozen=True)
class AcknowledgementWeek:
    """What happened to the acknowledgements of the messages received in the week starting `week`."""

    week: dt.date
    sent: int
    suppressed: int
    would_send: int


@dataclass(frozen=True)
class PastDueItem:
    id: int
    reference: str
    route: str
    due_at: dt.datetime
    days_overdue: int


@dataclass(frozen=True)
class ModelScore:
    """One model's figures on one evaluation set; None where the set could not measure it."""

    n: int
    macro_f1: float | None
    safeguarding_recall: float | None


@dataclass(frozen=True)
class ModelFigures:
    version: str
    frozen_test: ModelScore
    holdout: ModelScore


@dataclass(frozen=True)
class RetrainResult:
    """One retraining run as the event log recorded it: the candidate against the current model."""

    at: dt.datetime
    actor: str
    candidate: ModelFigures
    current: ModelFigures | None  # None on the first run, with no model to compare
    decision: str  # "promoted" or "kept"
    reasons: tuple[str, ...]
    confirmed_labels: int


@dataclass(frozen=True)
class Dashboard:
    """The supervisor dashboard's figures. Weekly series run over `weeks` (Mondays, oldest first) and
    count messages by the week they were received; the rest cover every item stored."""

    today: dt.date
    routes: tuple[str, ...]
    weeks: tuple[dt.date, ...]
    messages_per_week: dict[str, tuple[int, ...]]  # final route -> messages per week
    safeguarding_per_week: tuple[int, ...]
    acknowledgements: tuple[AcknowledgementWeek, ...]
    override_rates: tuple[OverrideRate, ...]  # one per classifier label
    confusion: dict[str, dict[str, int]]  # classifier label -> final route -> decided items
    approval_time: ApprovalTime
    approval_time_by_route: tuple[ApprovalTime, ...]
    past_due: int
    oldest_past_due: tuple[PastDueItem, ...]
    retraining: tuple[RetrainResult, ...]  # newest first

    @property
    def override_rate(self) -> OverrideRate:
        """The override rate over every classifier label together."""
        return OverrideRate("", sum(r.decided for r in self.override_rates),
                            sum(r.overridden for r in self.override_rates))
