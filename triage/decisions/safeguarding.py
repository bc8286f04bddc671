"""The safeguarding decisions on a flagged item: record what was done, or clear a false flag with a reason.

A reply to a flagged item cannot be approved until one of these is recorded (triage.decisions.approving),
so the duty to act on a concern is never skipped by a quick Approve. Every such decision is an event a
supervisor can list (store.safeguarding.decisions, the supervisor's Safeguarding page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.decision_records import SafeguardingAction
from ..errors import InvalidAction

if TYPE_CHECKING:
    from ..store import Store


def record_safeguarding_action(store: Store, item_id: int, action: str, note: str, actor: str,
                               expected_version: int | None = None) -> SafeguardingAction:
    """Record the action taken (referral made, already known, not a safeguarding matter) with a note.

    A referral or "already known" needs a note saying to whom or how it is known: a supervisor must be
    able to follow it up."""
    try:
        chosen = SafeguardingAction(action)
    except ValueError:
        raise InvalidAction(f"unknown safeguarding action {action!r}; choose one of "
                            f"{', '.join(a.value for a in SafeguardingAction)}") from None
    if chosen is not SafeguardingAction.NOT_SAFEGUARDING and not note.strip():
        raise InvalidAction(f"add a note to “{chosen.label}”: who was told, or how the family is known")
    store.items.record_safeguarding_action(item_id, chosen.value, note, actor, expected_version)
    return chosen


def clear_safeguarding_flag(store: Store, item_id: int, reason: str, actor: str,
                            expected_version: int | None = None) -> None:
    """Clear a flag judged false; the reason is required and every clearing is listed for supervisors."""
    if not reason.strip():
        raise InvalidAction("give a reason for clearing the safeguarding flag")
    store.items.clear_safeguarding_flag(item_id, reason, actor, expected_version)
