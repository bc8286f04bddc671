"""Queries that read queue items into the plain values the web app and CLI show (store.items uses them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..domain import Attachment, QueueEntry, Status, deadline_on
from ..errors import NotFound
from .message_json import attachment_texts
from .records import ClassificationView, DraftVersion, ItemDetail, MessageView, QueuePage, QueueQuery, QueueRow
from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow


def queue_page(s: Session, query: QueueQuery) -> QueuePage:
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
    total = s.scalar(select(func.count()).select_from(ids_query.subquery())) or 0
    if query.sort == "deadline":  # safeguarding still first: a person must see those at once
        deadline = _deadline_on(query.today)
        order = (ItemRow.safeguarding.desc(), deadline.is_(None), deadline, ItemRow.due_at, ItemRow.id)
    else:
        order = (ItemRow.safeguarding.desc(), ItemRow.needs_review.desc(), ItemRow.due_at, ItemRow.id)
    ids = list(s.scalars(ids_query.order_by(*order).limit(query.per_page).offset((page - 1) * query.per_page)))
    rows = {r.id: r for r in _queue_rows(s, ids, query.today)}
    return QueuePage(tuple(rows[i] for i in ids if i in rows), total, page, query.per_page)


def _deadline_on(today: dt.date | None) -> Any:
    """triage.domain.deadline_on in SQL, for sorting: the appeal's date once the adviser's two months
    are over on `today`, otherwise the stored one."""
    if today is None:
        return ItemRow.statutory_deadline
    moved_on = and_(ItemRow.adviser_until.is_not(None), ItemRow.appeal_deadline.is_not(None),
                    ItemRow.adviser_until < today)
    return case((moved_on, ItemRow.appeal_deadline), else_=ItemRow.statutory_deadline)


def _queue_rows(s: Session, ids: list[int], today: dt.date | None) -> list[QueueRow]:
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
                 broken=bool(broken), statutory_deadline=deadline_on(today, item.statutory_deadline,
                                                                     item.appeal_deadline, item.adviser_until))
        for item, from_name, from_address, subject, received_at, broken, confidence in s.execute(query)
    ]


def queue_entries(s: Session, status: str | None = None, item_id: int | None = None) -> list[QueueEntry]:
    """Queue items, safeguarding first, then needs-review, then oldest first."""
    latest = select(DraftRow.item_ref, func.max(DraftRow.version).label("v")).group_by(DraftRow.item_ref).subquery()
    query = (
        select(ItemRow, MessageRow, ClassificationRow, DraftRow)
        .join(MessageRow, MessageRow.id == ItemRow.message_ref)
        .join(ClassificationRow, ClassificationRow.message_ref == MessageRow.id)
        .join(latest, latest.c.item_ref == ItemRow.id)
        .join(DraftRow, (DraftRow.item_ref == ItemRow.id) & (DraftRow.version == latest.c.v))
        .order_by(ItemRow.safeguarding.desc(), ItemRow.needs_review.desc(), MessageRow.received_at, ItemRow.id)
    )
    if status:
        query = query.where(ItemRow.status == status)
    if item_id is not None:
        query = query.where(ItemRow.id == item_id)
    return [_entry(*row) for row in s.execute(query)]


def _entry(item: ItemRow, msg: MessageRow, c: ClassificationRow, draft: DraftRow) -> QueueEntry:
    return QueueEntry(
        id=item.id, message_id=msg.message_id, from_address=msg.from_address, from_name=msg.from_name,
        subject=msg.subject, received_at=msg.received_at, route=item.route, confidence=c.confidence,
        needs_review=item.needs_review, safeguarding=item.safeguarding, status=Status(item.status),
        draft_subject=draft.subject, draft_text=draft.body_text, parse_error=msg.parse_error,
        draft_version=draft.version, flags=tuple(item.flags or ()), reference=item.reference,
    )


def detail(s: Session, item_id: int) -> ItemDetail:
    """One item with its message, classification, every draft version and its history."""
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
        attachment_texts=attachment_texts(m.attachment_text or "", headers.get("attachment_texts", ())),
        reply_to=str(headers.get("reply_to") or ""),
    )
    return ItemDetail(
        id=item.id, reference=item.reference, status=Status(item.status), route=item.route,
        needs_review=item.needs_review, safeguarding=item.safeguarding, flags=tuple(item.flags or ()),
        due_at=item.due_at, claimed_by=item.claimed_by, version=item.version, message=message,
        classification=ClassificationView.from_row(c) if c is not None else None,
        drafts=tuple(draft_version(d) for d in drafts),
        events=tuple({"id": e.id, "at": e.at, "actor": e.actor, "name": e.name, "data": e.data} for e in events),
        statutory_deadline=item.statutory_deadline,
    )


def latest_draft_row(s: Session, item_id: int) -> DraftRow:
    return s.scalars(select(DraftRow).where(DraftRow.item_ref == item_id)
                     .order_by(DraftRow.version.desc()).limit(1)).one()


def draft_version(d: DraftRow) -> DraftVersion:
    return DraftVersion(d.version, d.route, d.subject, d.body_text, d.body_html, d.author, d.created_at,
                        dict(d.meta or {}))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
