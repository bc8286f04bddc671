"""The one table of which decision may be taken on an item in which status, and the status it leaves.

Both the decision functions (triage.decisions) and the store's transaction that carries a decision out
(store.items) ask this table, so the web app, the CLI and the store never disagree about what is allowed.
A decision missing from a status's row is refused with InvalidAction saying which statuses allow it.

This module imports nothing but the domain, so the store can use it without importing the decisions.
"""

from __future__ import annotations

from enum import Enum

from ..errors import InvalidAction
from .values import Status


class Decision(str, Enum):
    """What a caseworker (or supervisor) can decide about one item."""

    CLAIM = "claim"
    RELEASE = "release"
    SAVE_DRAFT = "save_draft"
    CHANGE_ROUTE = "change_route"
    APPROVE = "approve"
    REJECT = "reject"
    HANDLED_ELSEWHERE = "handled_elsewhere"
    RECORD_SAFEGUARDING_ACTION = "record_safeguarding_action"
    CLEAR_SAFEGUARDING_FLAG = "clear_safeguarding_flag"

    @property
    def words(self) -> str:
        """The decision as the end of 'only ... items can be <words>'."""
        return _WORDS[self]


_WORDS = {
    Decision.CLAIM: "claimed", Decision.RELEASE: "released", Decision.SAVE_DRAFT: "edited",
    Decision.CHANGE_ROUTE: "given another route", Decision.APPROVE: "approved", Decision.REJECT: "rejected",
    Decision.HANDLED_ELSEWHERE: "marked handled elsewhere",
    Decision.RECORD_SAFEGUARDING_ACTION: "given a safeguarding action",
    Decision.CLEAR_SAFEGUARDING_FLAG: "cleared of their safeguarding flag",
}

_S, _D = Status, Decision
_OPEN = {_D.CLAIM: None, _D.RELEASE: None, _D.SAVE_DRAFT: None, _D.APPROVE: _S.APPROVED,
         _D.REJECT: _S.REJECTED, _D.HANDLED_ELSEWHERE: _S.HANDLED_ELSEWHERE,
         _D.RECORD_SAFEGUARDING_ACTION: None, _D.CLEAR_SAFEGUARDING_FLAG: None}
# After the decision is made the item still needs a record of what was done about a safeguarding concern
# (a referral can follow a rejection or a sent reply), and a claim can be given up.
_CLOSED = {_D.RELEASE: None, _D.RECORD_SAFEGUARDING_ACTION: None}

# from-status -> {decision: to-status}; None means "the status stays as it is".
TRANSITIONS: dict[Status, dict[Decision, Status | None]] = {
    _S.RECEIVED: {},  # not yet triaged: nothing to decide
    _S.NEEDS_REVIEW: {**_OPEN, _D.CHANGE_ROUTE: _S.DRAFTED},  # a person choosing the route settles the doubt
    _S.DRAFTED: {**_OPEN, _D.CHANGE_ROUTE: _S.DRAFTED},
    _S.APPROVED: dict(_CLOSED),
    _S.SENT: dict(_CLOSED),
    _S.FAILED: dict(_CLOSED),
    _S.REJECTED: dict(_CLOSED),
    _S.HANDLED_ELSEWHERE: dict(_CLOSED),
}


def allowed(status: Status | str, decision: Decision) -> bool:
    return decision in TRANSITIONS[Status(status)]


def after(item_id: int, status: Status | str, decision: Decision) -> Status:
    """The status `decision` leaves an item in, or InvalidAction naming the statuses that allow it."""
    status = Status(status)
    row = TRANSITIONS[status]
    if decision not in row:
        raise InvalidAction(f"item {item_id} is {status.value}; only {_names(statuses_allowing(decision))} items "
                            f"can be {decision.words}")
    return row[decision] or status


def statuses_allowing(decision: Decision) -> tuple[Status, ...]:
    return tuple(s for s in Status if decision in TRANSITIONS[s])


def _names(statuses: tuple[Status, ...]) -> str:
    names = sorted(s.value for s in statuses)
    return " or ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " or " + names[-1]
