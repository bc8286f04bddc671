"""The Store's learning side: confirmed labels (caseworkers' final routes) for retraining."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from ..domain import Status
from ..events import DECISIONS
from .database import Database
from .tables import EventRow, ItemRow, MessageRow

# An approved item's reply may since have been sent or have failed: the route was confirmed either way.
_CONFIRMED = (Status.APPROVED.value, Status.SENT.value, Status.FAILED.value, Status.REJECTED.value)


@dataclass(frozen=True)
class ConfirmedMessage:
    """A message whose route a caseworker settled by approving or rejecting its item."""

    item_id: int
    raw: bytes
    route: str
    confirmed_at: dt.datetime


class Learning:
    """Confirmed labels for the learning loop."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def confirmed_messages(self) -> list[ConfirmedMessage]:
        """Every approved or rejected item's message and final route, oldest decision first."""
        decided = (select(EventRow.item_ref, func.max(EventRow.at).label("at"))
                   .where(EventRow.name.in_(DECISIONS)).group_by(EventRow.item_ref).subquery())
        query = (select(ItemRow.id, MessageRow.raw, ItemRow.route, decided.c.at)
                 .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                 .join(decided, decided.c.item_ref == ItemRow.id)
                 .where(ItemRow.status.in_(_CONFIRMED), MessageRow.parse_error == "",
                        MessageRow.purged_at.is_(None))  # erased or past retention: not learned from again
                 .order_by(decided.c.at, ItemRow.id))
        with self.db.reading() as s:
            return [ConfirmedMessage(item_id, raw, route, at) for item_id, raw, route, at in s.execute(query)]
