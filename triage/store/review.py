"""The Store's caseworker side: the queue's pages, one item in full, and the decisions made on it.

Every decision checks the item's version (the one the caseworker's form was built from) inside
its transaction, so of two people acting on the same item one wins and the other gets Conflict,
and writes its event (who, when, what) in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain import OPEN_STATUSES, Attachment, AttachmentText, DraftText, Status
from ..errors import Conflict, InvalidAction, NotFound
from .records import (
    ClassificationView,
    DraftVersion,
    ItemDetail,
    MessageView,
    QueuePage,
    QueueQuery,
    QueueRow,
)
from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

_OPEN = tuple(s.value for s in OPEN_STATUSES)
_DIFF_LIMIT = 20_000
_READ_ONLY_EVENTS = ("viewed", "attachment_downloaded")  # logged, but they change nothing


class ReviewMixin:
    """Queue queries and caseworker decisions; mixed into Store, which provides _session and _event."""

    if TYPE_CHECKING:
        def _session(self) -> AbstractContextManager[Session]: ...
        def _reading(self) -> AbstractContextManager[Session]: ...
        def _event(self, s: Session, name: str, actor: str, message: int | None = None, item: int | None = None,
                   data: dict[str, Any] | None = None) -> None: ...

    # -- reading -----------------------------------------------------------------------------

    def queue_page(self, query: QueueQuery) -> QueuePage:
        """One page of the queue: safeguarding first, then needs review, then the earliest reply-by date."""
        conditions: list[Any] = []
        if query.statuses:
            conditions.append(ItemRow.status.in_(query.statuses))
        if query.route:
            conditions.append(ItemRow.route == query.route)
        if query.unclaimed:
            conditions.append(ItemRow.claimed_by.is_(None))
        elif query.claimed_by:
            conditions.append(ItemRow.claimed_by == query.claimed_by)
        needs_message = query.received_before is not None or bool(query.search.strip())
        if query.received_before is not None:
            conditions.append(MessageRow.received_at <= query.received_before)
        if query.search.strip():
            like = "%" + _escape_like(query.search.strip().lower()) + "%"
            conditions.append(or_(*(func.lower(column).like(like, escape="\\") for column in (
                MessageRow.from_address, MessageRow.from_name, ItemRow.reference, MessageRow.subject,
                MessageRow.body_text, MessageRow.attachment_text))))
        ids_query = select(ItemRow.id)
        if needs_message:
            ids_query = ids_query.join(MessageRow, MessageRow.id == ItemRow.message_ref)
        ids_query = ids_query.where(*conditions)
        page = max(1, query.page)
        with self._reading() as s:
            total = s.scalar(select(func.count()).select_from(ids_query.subquery())) or 0
            if query.sort == "deadline":  # safeguarding still first: a person must see those at once
                order = (ItemRow.safeguarding.desc(), ItemRow.statutory_deadline.is_(None),
                         ItemRow.statutory_deadline, ItemRow.due_at, ItemRow.id)
            else:
                order = (ItemRow.safeguarding.desc(), ItemRow.needs_review.desc(), ItemRow.due_at, ItemRow.id)
            ids = list(s.scalars(
                ids_query.order_by(*order)
                .limit(query.per_page).offset((page - 1) * query.per_page)))
            rows = {r.id: r for r in self._queue_rows(s, ids)}
        return QueuePage(tuple(rows[i] for i in ids if i in rows), total, page, query.per_page)

    def _queue_rows(self, s: Session, ids: list[int]) -> list[QueueRow]:
        if not ids:
            return []
        query = (
            select(ItemRow, MessageRow.from_name, MessageRow.from_address, MessageRow.subject, MessageRow.received_at,
                   MessageRow.parse_error != "", ClassificationRow.confidence)
            .join(MessageRow, MessageRow.id == ItemRow.message_ref)
            .outerjoin(ClassificationRow, ClassificationRow.message_ref == ItemRow.message_ref)
            .where(ItemRow.id.in_(ids))
        )
        return [
            QueueRow(id=item.id, reference=item.reference, status=Status(item.status), route=item.route,
                     confidence=confidence or 0.0, needs_review=item.needs_review, safeguarding=item.safeguarding,
                     flags=tuple(item.flags or ()), due_at=item.due_at, received_at=received_at,
                     from_name=from_name, from_address=from_address, subject=subject, claimed_by=item.claimed_by,
                     broken=bool(broken), statutory_deadline=item.statutory_deadline)
            for item, from_name, from_address, subject, received_at, broken, confidence in s.execute(query)
        ]

    def item_detail(self, item_id: int) -> ItemDetail:
        """One item with its message, classification, every draft version and its history."""
        with self._reading() as s:
            item = s.get(ItemRow, item_id)
            if item is None:
                raise NotFound(f"no queue item {item_id}")
            m = s.get_one(MessageRow, item.message_ref)
            c = s.scalar(select(ClassificationRow).where(ClassificationRow.message_ref == m.id)
                         .order_by(ClassificationRow.id.desc()).limit(1))
            drafts = s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id).order_by(DraftRow.version))
            events = s.scalars(select(EventRow).where(or_(EventRow.item_ref == item_id, EventRow.message_ref == m.id))
                               .order_by(EventRow.id))
            headers = m.headers or {}
            message = MessageView(
                message_id=m.message_id, from_name=m.from_name, from_address=m.from_address,
                to=tuple(headers.get("to", ())), cc=tuple(headers.get("cc", ())), subject=m.subject,
                received_at=m.received_at, sent_at=m.sent_at, text=m.body_text, html=m.body_html,
                attachments=tuple(Attachment(a.get("filename", ""), a.get("content_type", ""), int(a.get("size", 0)))
                                  for a in headers.get("attachments", ())),
                parse_error=m.parse_error,
                attachment_texts=_attachment_texts(m.attachment_text or "", headers.get("attachment_texts", ())),
            )
            classification = None
            if c is not None:
                classification = ClassificationView.from_row(c)
            return ItemDetail(
                id=item.id, reference=item.reference, status=Status(item.status), route=item.route,
                needs_review=item.needs_review, safeguarding=item.safeguarding, flags=tuple(item.flags or ()),
                due_at=item.due_at, claimed_by=item.claimed_by, version=item.version, message=message,
                classification=classification,
                drafts=tuple(DraftVersion(d.version, d.route, d.subject, d.body_text, d.body_html, d.author,
                                          d.created_at, dict(d.meta or {})) for d in drafts),
                events=tuple({"id": e.id, "at": e.at, "actor": e.actor, "name": e.name, "data": e.data}
                             for e in events),
                statutory_deadline=item.statutory_deadline,
            )

    def latest_draft(self, item_id: int) -> DraftVersion:
        """The item's current draft, with its version number."""
        with self._reading() as s:
            if s.get(ItemRow, item_id) is None:
                raise NotFound(f"no queue item {item_id}")
            d = _latest(s, item_id)
            return DraftVersion(d.version, d.route, d.subject, d.body_text, d.body_html, d.author, d.created_at,
                                dict(d.meta or {}))

    def fill_missing_due_dates(self, due_for: Callable[[dt.datetime], dt.datetime]) -> int:
        """Give items stored before reply-by dates were recorded one counted from their receipt."""
        with self._session() as s:
            rows = s.execute(select(ItemRow, MessageRow.received_at)
                             .join(MessageRow, MessageRow.id == ItemRow.message_ref)
                             .where(ItemRow.due_at.is_(None))).all()
            for item, received_at in rows:
                item.due_at = due_for(received_at)
            return len(rows)

    def ping(self) -> bool:
        """Whether the database answers."""
        with self._reading() as s:
            return s.scalar(select(literal(1))) == 1

    # -- deciding ----------------------------------------------------------------------------

    def claim(self, item_id: int, actor: str, expected_version: int | None = None, release: bool = False) -> None:
        """Claim an item for `actor` (taking it over from whoever had it), or release it."""
        with self._decision(item_id, expected_version, open_only=False) as (s, item):
            before = item.claimed_by
            item.claimed_by = None if release else actor
            item.updated_at = _now()
            self._event(s, "released" if release else "claimed", actor, message=item.message_ref, item=item.id,
                        data={"from": before, "to": item.claimed_by})

    def save_draft(self, item_id: int, subject: str, text: str, actor: str, expected_version: int | None = None) -> int:
        """Keep an edited draft as a new version (the diff goes in the event); returns the draft version.

        An edited draft is sent as plain text: the HTML the template rendered no longer says the same.
        Saving text identical to the current draft changes nothing.
        """
        text = text.replace("\r\n", "\n")
        subject = " ".join(subject.split())
        with self._decision(item_id, expected_version) as (s, item):
            current = _latest(s, item_id)
            if current.body_text == text and current.subject == subject:
                return current.version
            if not text.strip():
                raise InvalidAction("the draft cannot be empty")
            if not subject:
                raise InvalidAction("the subject cannot be empty")
            version = current.version + 1
            s.add(DraftRow(item_ref=item.id, version=version, route=item.route, subject=subject, body_text=text,
                           body_html="", author=actor, meta=dict(current.meta or {}), created_at=_now()))
            item.updated_at = _now()
            diff = "".join(difflib.unified_diff(current.body_text.splitlines(keepends=True),
                                                text.splitlines(keepends=True),
                                                f"version {current.version}", f"version {version}"))
            data: dict[str, Any] = {"from_version": current.version, "version": version,
                                    "diff": diff[:_DIFF_LIMIT], "diff_truncated": len(diff) > _DIFF_LIMIT}
            if subject != current.subject:
                data["subject"] = {"from": current.subject, "to": subject}
            self._event(s, "draft_edited", actor, message=item.message_ref, item=item.id, data=data)
            return version

    def change_route(self, item_id: int, route: str, draft: DraftText, meta: dict[str, Any], flags: tuple[str, ...],
                     actor: str, expected_version: int | None = None,
                     statutory_deadline: dt.date | None = None) -> int:
        """Set a new route with the draft rendered from its template (earlier versions stay); returns its version.

        A person choosing the route settles the classifier's doubt, so the item no longer needs review.
        """
        with self._decision(item_id, expected_version) as (s, item):
            current = _latest(s, item_id)
            before = item.route
            version = current.version + 1
            s.add(DraftRow(item_ref=item.id, version=version, route=route, subject=draft.subject, body_text=draft.text,
                           body_html=draft.html, author=actor, meta=dict(meta), created_at=_now()))
            item.route, item.flags, item.updated_at = route, list(flags), _now()
            item.statutory_deadline = statutory_deadline
            if item.needs_review:
                item.needs_review, item.status = False, Status.DRAFTED.value
            self._event(s, "route_changed", actor, message=item.message_ref, item=item.id,
                        data={"from": before, "to": route, "draft_version": version,
                              "replaced_version": current.version, "flags": list(flags)})
            return version

    def reject(self, item_id: int, reason: str, actor: str, expected_version: int | None = None) -> None:
        """Close the item without replying; the reason is required and kept in the event."""
        if not reason.strip():
            raise InvalidAction("give a reason for rejecting the item")
        self._close(item_id, Status.REJECTED, "rejected", {"reason": reason.strip()[:2000]}, actor, expected_version)

    def mark_handled_elsewhere(self, item_id: int, note: str, actor: str, expected_version: int | None = None) -> None:
        """Close the item: it was answered outside this service (by phone, another mailbox...)."""
        self._close(item_id, Status.HANDLED_ELSEWHERE, "handled_elsewhere", {"note": note.strip()[:2000]}, actor,
                    expected_version)

    def _close(self, item_id: int, status: Status, event: str, data: dict[str, Any], actor: str,
               expected_version: int | None) -> None:
        with self._decision(item_id, expected_version) as (s, item):
            before = item.status
            item.status, item.updated_at = status.value, _now()
            self._event(s, event, actor, message=item.message_ref, item=item.id, data={"from": before, **data})

    @contextmanager
    def _decision(self, item_id: int, expected_version: int | None,
                  open_only: bool = True) -> Iterator[tuple[Session, ItemRow]]:
        """One transaction on one item: load it, check its version (and that it is still open)."""
        try:
            with self._session() as s:
                item = s.get(ItemRow, item_id)
                if item is None:
                    raise NotFound(f"no queue item {item_id}")
                self.check_version(s, item, expected_version)
                if open_only and item.status not in _OPEN:
                    raise InvalidAction(f"item {item.id} is {item.status.replace('_', ' ')}: "
                                        f"it can no longer be changed")
                yield s, item
        except StaleDataError:
            # Another transaction updated the row between our read and our write.
            raise Conflict(f"item {item_id} was changed by someone else at the same moment; reload it and try again"
                           ) from None

    def check_version(self, s: Session, item: ItemRow, expected_version: int | None) -> None:
        """Raise Conflict, naming who changed the item last, when it moved on since the form was built."""
        if expected_version is None or item.version == expected_version:
            return
        last = s.scalar(select(EventRow).where(EventRow.item_ref == item.id, EventRow.actor != "system",
                                               EventRow.name.not_in(_READ_ONLY_EVENTS))
                        .order_by(EventRow.id.desc()).limit(1))
        who = f" by {last.actor} ({last.name.replace('_', ' ')}, {last.at:%d %b %Y %H:%M} UTC)" if last else ""
        raise Conflict(f"item {item.id} was changed{who} after you opened it")


def _latest(s: Session, item_id: int) -> DraftRow:
    return s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id)
                     .order_by(DraftRow.version.desc()).limit(1)).one()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _attachment_texts(joined: str, index: Any) -> tuple[AttachmentText, ...]:
    """Each attachment's text, cut back out of messages.attachment_text by the offsets kept in headers."""
    texts = []
    for a in index if isinstance(index, list) else ():
        try:
            start, end = int(a.get("start", 0)), int(a.get("end", 0))
            texts.append(AttachmentText(str(a.get("filename", "")), str(a.get("kind", "")), joined[start:end],
                                        bool(a.get("truncated")), str(a.get("error", "")), int(a.get("pages", 0))))
        except (AttributeError, TypeError, ValueError):
            continue
    return tuple(texts)
