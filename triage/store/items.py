"""Queue items: reading the queue, and the caseworkers' decisions on one item.

Every decision checks the item's version (the one the caseworker's form was built from) inside
its transaction, so of two people acting on the same item one wins and the other gets Conflict,
and writes its event (who, when, what) in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain import DraftText, OutboxStatus, QueueEntry, Status
from ..domain.decision_records import FLAG_CLEARED, Approval, ReplySource
from ..domain.transitions import Decision, after
from ..errors import Conflict, InvalidAction, NotFound
from ..events import (READ_ONLY, Approved, Claimed, DraftEdited, HandledElsewhere, Rejected, Released, RouteChanged,
                      SafeguardingActionRecorded, SafeguardingFlagCleared)
from . import item_views
from .database import Database
from .outbox import add as add_to_outbox
from .records import DraftVersion, ItemDetail, QueuePage, QueueQuery
from .tables import DraftRow, EventRow, ItemRow, MessageRow, OutboxRow

_DIFF_LIMIT = 20_000
_COUNTED = {"messages": MessageRow, "items": ItemRow, "events": EventRow, "outbox": OutboxRow}


class Items:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading -----------------------------------------------------------------------------

    def queue_page(self, query: QueueQuery) -> QueuePage:
        """One page of the queue: safeguarding first, then needs review, then the earliest reply-by date."""
        with self.db.reading() as s:
            return item_views.queue_page(s, query)

    def list_queue(self, status: str | None = None, item_id: int | None = None) -> list[QueueEntry]:
        """Queue items, safeguarding first, then needs-review, then oldest first."""
        with self.db.reading() as s:
            return item_views.queue_entries(s, status, item_id)

    def get_item(self, item_id: int) -> QueueEntry:
        found = self.list_queue(item_id=item_id)
        if not found:
            raise NotFound(f"no queue item {item_id}")
        return found[0]

    def detail(self, item_id: int) -> ItemDetail:
        """One item with its message, classification, every draft version and its history."""
        with self.db.reading() as s:
            return item_views.detail(s, item_id)

    def latest_draft(self, item_id: int) -> DraftVersion:
        """The item's current draft, with its version number."""
        with self.db.reading() as s:
            if s.get(ItemRow, item_id) is None:
                raise NotFound(f"no queue item {item_id}")
            return item_views.draft_version(item_views.latest_draft_row(s, item_id))

    def count(self, what: str) -> int:
        """How many messages, items, events or outbox rows are stored."""
        with self.db.reading() as s:
            return s.scalar(select(func.count()).select_from(_COUNTED[what])) or 0

    def fill_missing_due_dates(self, due_for: Callable[[dt.datetime], dt.datetime]) -> int:
        """Give items stored before reply-by dates were recorded one counted from their receipt."""
        with self.db.writing() as s:
            rows = s.execute(select(ItemRow, MessageRow.received_at)
                             .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                             .where(ItemRow.due_at.is_(None))).all()
            for item, received_at in rows:
                item.due_at = due_for(received_at)
            return len(rows)

    # -- deciding ----------------------------------------------------------------------------

    def claim(self, item_id: int, actor: str, expected_version: int | None = None, release: bool = False) -> None:
        """Claim an item for `actor` (taking it over from whoever had it), or release it."""
        with self._decision(item_id, expected_version, Decision.RELEASE if release else Decision.CLAIM) as (s, item, _):
            before = item.claimed_by
            item.claimed_by = None if release else actor
            item.updated_at = self.db.now()
            self.db.append(s, (Released if release else Claimed)(before, item.claimed_by), actor,
                           item.message_ref, item.id)

    def save_draft(self, item_id: int, subject: str, text: str, actor: str, expected_version: int | None = None) -> int:
        """Keep an edited draft as a new version (the diff goes in the event); returns the draft version.

        An edited draft is sent as plain text: the HTML the template rendered no longer says the same.
        Saving text identical to the current draft changes nothing.
        """
        with self._decision(item_id, expected_version, Decision.SAVE_DRAFT) as (s, item, _):
            return self._save_edit(s, item, subject, text, actor)

    def _save_edit(self, s: Session, item: ItemRow, subject: str, text: str, actor: str) -> int:
        """The edited draft as a new version in this transaction (unless it is unchanged); its version."""
        text = text.replace("\r\n", "\n")
        subject = " ".join(subject.split())
        current = item_views.latest_draft_row(s, item.id)
        if current.body_text == text and current.subject == subject:
            return current.version
        if not text.strip():
            raise InvalidAction("the draft cannot be empty")
        if not subject:
            raise InvalidAction("the subject cannot be empty")
        version = current.version + 1
        s.add(DraftRow(item_ref=item.id, version=version, route=item.route, subject=subject, body_text=text,
                       body_html="", author=actor, meta=dict(current.meta or {}), created_at=self.db.now()))
        item.updated_at = self.db.now()
        diff = "".join(difflib.unified_diff(current.body_text.splitlines(keepends=True),
                                            text.splitlines(keepends=True),
                                            f"version {current.version}", f"version {version}"))
        changed_subject = {"from": current.subject, "to": subject} if subject != current.subject else None
        self.db.append(s, DraftEdited(current.version, version, diff[:_DIFF_LIMIT], len(diff) > _DIFF_LIMIT,
                                      changed_subject), actor, item.message_ref, item.id)
        s.flush()  # the new version is the latest draft from here on in this transaction
        return version

    def change_route(self, item_id: int, route: str, draft: DraftText, meta: dict[str, Any], flags: tuple[str, ...],
                     actor: str, expected_version: int | None = None,
                     statutory_deadline: dt.date | None = None, appeal_deadline: dt.date | None = None,
                     adviser_until: dt.date | None = None) -> int:
        """Set a new route with the draft rendered from its template (earlier versions stay); returns its version.

        A person choosing the route settles the classifier's doubt, so the item no longer needs review.
        """
        with self._decision(item_id, expected_version, Decision.CHANGE_ROUTE) as (s, item, to):
            current = item_views.latest_draft_row(s, item_id)
            before = item.route
            version = current.version + 1
            s.add(DraftRow(item_ref=item.id, version=version, route=route, subject=draft.subject, body_text=draft.text,
                           body_html=draft.html, author=actor, meta=dict(meta), created_at=self.db.now()))
            item.route, item.flags, item.updated_at = route, list(flags), self.db.now()
            item.statutory_deadline = statutory_deadline
            item.appeal_deadline, item.adviser_until = appeal_deadline, adviser_until
            item.needs_review, item.status = False, to.value
            self.db.append(s, RouteChanged(before, route, version, current.version, list(flags)), actor,
                           item.message_ref, item.id)
            return version

    def reject(self, item_id: int, reason: str, actor: str, expected_version: int | None = None) -> None:
        """Close the item without replying; the reason is required and kept in the event."""
        if not reason.strip():
            raise InvalidAction("give a reason for rejecting the item")
        with self._decision(item_id, expected_version, Decision.REJECT) as (s, item, to):
            before = self._close(item, to)
            self.db.append(s, Rejected(before, reason.strip()[:2000]), actor, item.message_ref, item.id)

    def mark_handled_elsewhere(self, item_id: int, note: str, actor: str, expected_version: int | None = None) -> None:
        """Close the item: it was answered outside this service (by phone, another mailbox...)."""
        with self._decision(item_id, expected_version, Decision.HANDLED_ELSEWHERE) as (s, item, to):
            before = self._close(item, to)
            self.db.append(s, HandledElsewhere(before, note.strip()[:2000]), actor, item.message_ref, item.id)

    def approve(self, item_id: int, actor: str, compose: Callable[[ReplySource], Approval], shadow: bool = False,
                expected_version: int | None = None, draft_version: int | None = None,
                edit: tuple[str, str] | None = None) -> int:
        """Approve the current draft in ONE transaction: keep the caseworker's edit (`edit`: subject, text)
        as a new version, read what the reply is made of, let `compose` check it and build the reply
        (triage.decisions; it may refuse with InvalidAction), then set the status, write the `approved`
        event and the outbox row. Any refusal or failure leaves nothing behind. Returns the draft version.

        With `expected_version`, refuse (Conflict) when the item changed since the caseworker's form was
        built; with `draft_version`, when the draft is no longer the one the caseworker saw.
        """
        with self._decision(item_id, expected_version, Decision.APPROVE) as (s, item, to):
            if edit is not None:
                self._save_edit(s, item, edit[0], edit[1], actor)
            draft = item_views.latest_draft_row(s, item_id)
            if draft_version is not None and draft.version != draft_version:
                raise Conflict(f"item {item_id}'s draft was changed by someone else (now version {draft.version}, "
                               f"by {draft.author}) after you opened it")
            message = s.get_one(MessageRow, item.message_ref)
            headers = message.headers or {}
            approval = compose(ReplySource(
                item_id=item.id, status=Status(item.status), route=item.route, safeguarding=item.safeguarding,
                safeguarding_action=item.safeguarding_action or "", draft_version=draft.version,
                subject=draft.subject, text=draft.body_text, html=draft.body_html, meta=dict(draft.meta or {}),
                from_address=message.from_address, from_name=message.from_name, message_id=message.message_id,
                references=tuple(str(r) for r in headers.get("references", ())),
                purged=message.purged_at is not None))
            item.status, item.updated_at = to.value, self.db.now()
            reply = approval.reply
            self.db.append(s, Approved(item.route, draft.version, reply.to_address, approval.deadlines_confirmed),
                           actor, item.message_ref, item.id)
            add_to_outbox(self.db, s, reply, item.message_ref, item.id,
                          OutboxStatus.WOULD_SEND if shadow else OutboxStatus.PENDING)
            return draft.version

    def record_safeguarding_action(self, item_id: int, action: str, note: str, actor: str,
                                   expected_version: int | None = None) -> None:
        """Record what was done about the item's safeguarding flag (the decision layer checks `action`)."""
        with self._decision(item_id, expected_version, Decision.RECORD_SAFEGUARDING_ACTION) as (s, item, _):
            _require_flag(item)
            item.safeguarding_action, item.updated_at = action, self.db.now()
            self.db.append(s, SafeguardingActionRecorded(action, note.strip()[:2000]), actor, item.message_ref,
                           item.id)

    def clear_safeguarding_flag(self, item_id: int, reason: str, actor: str,
                                expected_version: int | None = None) -> None:
        """Clear a flag judged false: the item leaves the top of the queue; the reason is kept in the event."""
        if not reason.strip():
            raise InvalidAction("give a reason for clearing the safeguarding flag")
        with self._decision(item_id, expected_version, Decision.CLEAR_SAFEGUARDING_FLAG) as (s, item, _):
            _require_flag(item)
            item.safeguarding, item.safeguarding_action, item.updated_at = False, FLAG_CLEARED, self.db.now()
            self.db.append(s, SafeguardingFlagCleared(reason.strip()[:2000]), actor, item.message_ref, item.id)

    def _close(self, item: ItemRow, status: Status) -> str:
        before = item.status
        item.status, item.updated_at = status.value, self.db.now()
        return before

    @contextmanager
    def _decision(self, item_id: int, expected_version: int | None,
                  decision: Decision) -> Iterator[tuple[Session, ItemRow, Status]]:
        """One transaction on one item: load it, check its version and that its status allows `decision`
        (triage.domain.transitions); yields the session, the item and the status the decision leaves."""
        try:
            with self.db.writing() as s:
                item = s.get(ItemRow, item_id)
                if item is None:
                    raise NotFound(f"no queue item {item_id}")
                self._check_version(s, item, expected_version)
                yield s, item, after(item.id, item.status, decision)
        except StaleDataError:
            # Another transaction updated the row between our read and our write.
            raise Conflict(f"item {item_id} was changed by someone else at the same moment; reload it and try again"
                           ) from None

    def _check_version(self, s: Session, item: ItemRow, expected_version: int | None) -> None:
        """Raise Conflict, naming who changed the item last, when it moved on since the form was built."""
        if expected_version is None or item.version == expected_version:
            return
        last = s.scalar(select(EventRow).where(EventRow.item_ref == item.id, EventRow.actor != "system",
                                               EventRow.name.not_in(READ_ONLY))
                        .order_by(EventRow.id.desc()).limit(1))
        who = f" by {last.actor} ({last.name.replace('_', ' ')}, {last.at:%d %b %Y %H:%M} UTC)" if last else ""
        raise Conflict(f"item {item.id} was changed{who} after you opened it")


def _require_flag(item: ItemRow) -> None:
    if not item.safeguarding:
        raise InvalidAction(f"item {item.id} is not flagged for safeguarding"
                            + (" (its flag was cleared)" if item.safeguarding_action == FLAG_CLEARED else ""))
