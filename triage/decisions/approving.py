"""Approving a draft: checks on what the store holds, and the reply composed from it, in one transaction.

The store reads the item, its current draft and the message row inside the approval's transaction and
hands them to `reply_for` (a ReplySource); what it returns is written with the status change, the
`approved` event and the outbox row, or nothing is written at all. The original email is never parsed
again: the From address and name, the Message-ID and the References were stored at intake. Nothing is
sent here either: the send job (or `ehc-triage outbox send`) does the SMTP work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from replies import Draft
from replies.deadlines import changed_since_drafted, judge
from replies.drafting import london_today
from replies.facts import placeholder_line

from ..addresses import reply_recipient
from ..composing import compose
from ..domain import OutboxKind, now
from ..domain.decision_records import Approval, ReplySource, SafeguardingAction
from ..errors import InvalidAction, SafeguardingActionMissing

if TYPE_CHECKING:
    from ..settings import ServiceSettings
    from ..store import Store


@dataclass(frozen=True)
class Thread:
    """What composing needs to thread a reply to the message it answers (as ParsedMessage offers it)."""

    message_id: str
    references: tuple[str, ...]


def approve(store: Store, service: ServiceSettings, item_id: int, actor: str, expected_version: int | None = None,
            draft_version: int | None = None, today: dt.date | None = None, confirm_deadlines: bool = False,
            edit: tuple[str, str] | None = None) -> int:
    """Approve an item's current draft (after keeping `edit`, the caseworker's subject and text, as a new
    version, in the same transaction): the reply goes to the outbox, threaded to the original. Returns the
    draft version approved.

    Refused with Conflict when the item (`expected_version`) or its draft (`draft_version`) changed since
    the caseworker saw it; with InvalidAction when the status does not allow approving
    (triage.domain.transitions), when a safeguarding-flagged item has no recorded action, when a
    placeholder is left, when the deadlines, judged again on `today` (England's date; default: now), have
    passed or changed since the draft was written (unless `confirm_deadlines`), or when the sender's
    address cannot be written to.
    """
    day = today or london_today(now())
    return store.items.approve(item_id, actor, partial(reply_for, service=service, today=day,
                                                        confirm_deadlines=confirm_deadlines),
                               shadow=service.shadow, expected_version=expected_version,
                               draft_version=draft_version, edit=edit)


def reply_for(source: ReplySource, service: ServiceSettings, today: dt.date, confirm_deadlines: bool) -> Approval:
    """The checks an approval must pass, and the reply it queues: pure, from the stored values only."""
    item_id = source.item_id
    if source.purged:
        raise InvalidAction(f"item {item_id} cannot be approved: its message's personal data was deleted")
    if source.safeguarding and not source.safeguarding_action:
        raise SafeguardingActionMissing(
            f"item {item_id} cannot be approved: it is flagged for safeguarding and no action is recorded yet; "
            f"record what was done ({', '.join(a.label.lower() for a in SafeguardingAction)}) or clear the flag "
            f"with a reason, then approve")
    line = placeholder_line(source.text)
    if line:
        raise InvalidAction(f"item {item_id} cannot be approved: its draft still has a placeholder to fill in "
                            f"({line[:120]}); write that part of the reply, or fill in the route facts (see "
                            f"`ehc-triage check-config`)")
    stale = changed_since_drafted(source.meta, judge(source.meta, today))
    if stale and not confirm_deadlines:
        raise InvalidAction(f"item {item_id} cannot be approved: {stale}; re-draft it with today's dates, or "
                            f"confirm you have checked the deadlines in the draft")
    recipient = reply_recipient(source.from_address)  # the From address only, checked: triage.addresses
    if not recipient.ok:
        raise InvalidAction(f"item {item_id} cannot be approved: the sender's address {recipient.address!r} cannot "
                            f"be written to ({recipient.problem}); reply from a mail client and mark the item "
                            f"handled elsewhere")
    reply = compose(OutboxKind.REPLY, Draft(source.subject, source.text, source.html), recipient.address,
                    source.from_name, service.from_address, service.from_name,
                    reply_to=Thread(source.message_id, source.references))  # type: ignore[arg-type]
    return Approval(reply, stale or None)
