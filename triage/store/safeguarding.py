"""What the item page and the supervisor show about safeguarding: was the duty team alerted, and what was
decided about each flag. Only reads; the decisions themselves are store.items methods (one transaction each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from ..domain import OutboxKind
from ..domain.decision_records import FLAG_CLEARED
from ..errors import NotFound
from ..events import SAFEGUARDING_DECISIONS, SafeguardingAlertGrouped, SafeguardingAlertNotSent
from .database import Database
from .tables import EventRow, ItemRow, MessageRow, OutboxRow


@dataclass(frozen=True)
class DutyAlert:
    """The duty alert for one message: `state` is sent, queued, failed, would_send (shadow mode),
    grouped (the sender's alert of the last hour covers it), not_sent (with `reason`) or unknown."""

    state: str
    at: dt.datetime | None = None  # sent (or queued, or grouped into an alert queued) at
    reason: str = ""  # why not sent, or the last send error
    attempts: int = 0
    count: int = 0  # for a grouped alert: this sender's flagged messages in the hour


@dataclass(frozen=True)
class SafeguardingDecision:
    """One decision about a flag: an action recorded, or the flag cleared (`action` is FLAG_CLEARED)."""

    event_id: int
    at: dt.datetime
    actor: str
    item_id: int | None
    reference: str
    action: str
    note: str  # the note of an action, the reason of a clearing


@dataclass(frozen=True)
class SafeguardingState:
    """All the item page's safeguarding box needs."""

    flagged: bool
    cleared: bool
    action: str
    alert: DutyAlert
    decisions: tuple[SafeguardingDecision, ...]  # oldest first

    @property
    def needs_action(self) -> bool:
        return self.flagged and not self.action


class Safeguarding:
    def __init__(self, db: Database) -> None:
        self.db = db

    def state(self, item_id: int) -> SafeguardingState:
        """The duty alert and the decisions about one item's flag."""
        with self.db.reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            return SafeguardingState(
                flagged=item.safeguarding, cleared=item.safeguarding_action == FLAG_CLEARED,
                action=item.safeguarding_action or "", alert=_alert(s, item),
                decisions=tuple(reversed(_decisions(s, item_id=item_id))))

    def recent_alerts(self, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """(sender's address, queued at) of each duty alert queued since `since` (triage.alerts' window)."""
        with self.db.reading() as s:
            return [(a, at) for a, at in s.execute(
                select(MessageRow.from_address, OutboxRow.created_at)
                .join(MessageRow, MessageRow.id == OutboxRow.message_ref)
                .where(OutboxRow.kind == OutboxKind.ALERT.value, OutboxRow.created_at >= since))]

    def grouped_alerts(self, since: dt.datetime) -> list[tuple[str, dt.datetime | None, str]]:
        """(sender's address, the alert's time, case reference) of each message grouped into an alert
        since `since`, instead of getting its own."""
        with self.db.reading() as s:
            rows = s.execute(select(MessageRow.from_address, EventRow.data, ItemRow.reference)
                             .join(MessageRow, MessageRow.id == EventRow.message_ref)
                             .outerjoin(ItemRow, ItemRow.message_ref == EventRow.message_ref)
                             .where(EventRow.name == SafeguardingAlertGrouped.name, EventRow.at >= since))
            return [(a, _time((data or {}).get("alert_at")), reference or "") for a, data, reference in rows]

    def decisions(self, limit: int = 500) -> tuple[SafeguardingDecision, ...]:
        """Every action recorded and every flag cleared, newest first (the supervisor's review)."""
        with self.db.reading() as s:
            return tuple(_decisions(s, limit=limit))


def _alert(s, item: ItemRow) -> DutyAlert:  # noqa: ANN001 - a Session
    row = s.scalar(select(OutboxRow).where(OutboxRow.message_ref == item.message_ref,
                                           OutboxRow.kind == OutboxKind.ALERT.value))
    if row is not None:
        state = {"pending": "queued", "sending": "queued"}.get(row.status, row.status)
        return DutyAlert(state, row.sent_at or row.created_at, row.last_error, row.attempts)
    event = s.scalar(select(EventRow).where(
        or_(EventRow.message_ref == item.message_ref, EventRow.item_ref == item.id),
        EventRow.name.in_((SafeguardingAlertNotSent.name, SafeguardingAlertGrouped.name)))
        .order_by(EventRow.id.desc()).limit(1))
    if event is None:
        return DutyAlert("unknown")
    data = dict(event.data or {})
    if event.name == SafeguardingAlertGrouped.name:
        return DutyAlert("grouped", _time(data.get("alert_at")) or event.at, count=int(data.get("count") or 0))
    return DutyAlert("not_sent", event.at, str(data.get("reason", "")))


def _decisions(s, item_id: int | None = None, limit: int = 500) -> list[SafeguardingDecision]:  # noqa: ANN001
    query = (select(EventRow, ItemRow.id, ItemRow.reference)
             .outerjoin(ItemRow, or_(ItemRow.id == EventRow.item_ref, ItemRow.message_ref == EventRow.message_ref))
             .where(EventRow.name.in_(SAFEGUARDING_DECISIONS)).order_by(EventRow.id.desc()).limit(limit))
    if item_id is not None:
        query = query.where(EventRow.item_ref == item_id)
    out = []
    for e, found_id, reference in s.execute(query):
        data = dict(e.data or {})
        cleared = "reason" in data and "action" not in data
        out.append(SafeguardingDecision(e.id, e.at, e.actor, found_id, reference or "",
                                        FLAG_CLEARED if cleared else str(data.get("action", "")),
                                        str(data.get("reason" if cleared else "note", "") or "")))
    return out


def _time(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
