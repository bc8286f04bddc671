"""Subject access queries: the messages one person's search finds, and everything held about a message.

Read-only, run in a session the privacy part opens (triage.store.privacy.Privacy.search/records).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .tables import ClassificationRow, DraftRow, EventRow, ItemRow, MessageRow, OutboxRow


@dataclass(frozen=True)
class Found:
    """A message a subject access search found, and why."""

    message_id: int
    item_id: int | None
    reference: str
    received_at: dt.datetime
    from_address: str
    from_name: str
    subject: str
    why: str  # "from" (their address: certain) or what matched ("name", "reference", "address in text")


@dataclass(frozen=True)
class SubjectRecord:
    """Everything held about one message, for a subject access export."""

    message: dict[str, Any]
    raw: bytes
    item: dict[str, Any] | None
    classification: dict[str, Any] | None
    drafts: list[dict[str, Any]]
    outbox: list[dict[str, Any]]  # each with its raw bytes under "raw"
    events: list[dict[str, Any]]


def search(s: Session, address: str, name: str = "", reference: str = "") -> list[Found]:
    """Messages from this address (certain), then those whose text, sender name or case reference
    match the name, reference or address (candidates for a person to confirm)."""
    address, name, reference = address.strip().lower(), name.strip().lower(), reference.strip().lower()
    found: dict[int, Found] = {}
    base = (select(MessageRow.id, ItemRow.id, ItemRow.reference, MessageRow.received_at,
                   MessageRow.from_address, MessageRow.from_name, MessageRow.subject)
            .outerjoin(ItemRow, ItemRow.message_ref == MessageRow.id)
            .where(MessageRow.purged_at.is_(None)).order_by(MessageRow.received_at, MessageRow.id))
    text = (func.lower(MessageRow.subject), func.lower(MessageRow.body_text),
            func.lower(MessageRow.attachment_text), func.lower(MessageRow.from_name))
    searches: list[tuple[str, Any]] = []
    if address:
        searches.append(("from", func.lower(MessageRow.from_address) == address))
        searches.append(("address in the message", or_(*(t.contains(address, autoescape=True) for t in text))))
    if reference:
        searches.append(("case reference", or_(func.lower(ItemRow.reference) == reference,
                                               *(t.contains(reference, autoescape=True) for t in text))))
    if name:
        searches.append(("name", or_(*(t.contains(name, autoescape=True) for t in text))))
    for why, condition in searches:
        for m, i, ref, received, frm, frm_name, subject in s.execute(base.where(condition)):
            found.setdefault(m, Found(m, i, ref or "", received, frm, frm_name, subject, why))
    return sorted(found.values(), key=lambda f: (f.why != "from", f.received_at, f.message_id))


def records(s: Session, message_ids: list[int]) -> list[SubjectRecord]:
    """Everything held about these messages, oldest first."""
    held = []
    for m in s.scalars(select(MessageRow).where(MessageRow.id.in_(message_ids))
                       .order_by(MessageRow.received_at, MessageRow.id)):
        item = s.scalar(select(ItemRow).where(ItemRow.message_ref == m.id))
        c = s.scalar(select(ClassificationRow).where(ClassificationRow.message_ref == m.id)
                     .order_by(ClassificationRow.id.desc()).limit(1))
        drafts = list(s.scalars(select(DraftRow).where(DraftRow.item_ref == (item.id if item else -1))
                                .order_by(DraftRow.version)))
        outbox = list(s.scalars(select(OutboxRow).where(or_(
            OutboxRow.message_ref == m.id, OutboxRow.item_ref == (item.id if item else -1)))
            .order_by(OutboxRow.id)))
        events = list(s.scalars(select(EventRow).where(or_(
            EventRow.message_ref == m.id, EventRow.item_ref == (item.id if item else -1)))
            .order_by(EventRow.id)))
        held.append(SubjectRecord(
            message={"id": m.id, "message_id": m.message_id, "from_name": m.from_name,
                     "from_address": m.from_address, "subject": m.subject, "received_at": m.received_at,
                     "sent_at": m.sent_at, "text": m.body_text, "attachment_text": m.attachment_text,
                     "to": list((m.headers or {}).get("to", [])), "cc": list((m.headers or {}).get("cc", [])),
                     "attachments": list((m.headers or {}).get("attachments", []))},
            raw=m.raw,
            item=None if item is None else {
                "id": item.id, "reference": item.reference, "status": item.status, "route": item.route,
                "safeguarding": item.safeguarding, "flags": list(item.flags or []), "due_at": item.due_at},
            classification=None if c is None else {
                "model_version": c.model_version, "label": c.label, "confidence": c.confidence,
                "needs_review": c.needs_review, "safeguarding": c.safeguarding, "scores": c.scores,
                "explanation": c.explanation},
            drafts=[{"version": d.version, "route": d.route, "author": d.author, "created_at": d.created_at,
                     "subject": d.subject, "text": d.body_text} for d in drafts],
            outbox=[{"id": o.id, "kind": o.kind, "to": o.to_address, "subject": o.subject,
                     "status": o.status, "created_at": o.created_at, "sent_at": o.sent_at, "raw": o.raw}
                    for o in outbox],
            events=[{"id": e.id, "at": e.at, "actor": e.actor, "name": e.name, "data": e.data}
                    for e in events]))
    return held
