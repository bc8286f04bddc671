"""The safeguarding box on the item page, its two forms, and the supervisor's list of every decision.

A caseworker records what was done about a flagged message (referral made, already known, not a
safeguarding matter) with a note, or clears a false flag with a reason; a reply to a flagged item
cannot be approved before one of these (triage.decisions). The box also says whether and when the duty
team was alerted, or why not. Supervisors see every such decision at /supervisor/safeguarding.

The item page includes templates/queue/_safeguarding.html with one line; the box reads its state through
the `safeguarding_of(item_id)` template function registered here, so the item view need not know it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, g, render_template, request

from .. import decisions
from ..decisions import FLAG_CLEARED, SafeguardingAction
from ..domain import Role
from ..errors import Conflict, InvalidAction, NotFound
from . import items
from .security import requires

bp = Blueprint("safeguarding", __name__)

ACTION_LABELS = {a.value: a.label for a in SafeguardingAction} | {FLAG_CLEARED: "Flag cleared as false"}


@bp.app_context_processor
def _template_functions() -> dict[str, Any]:
    return {"safeguarding_of": _state_of, "safeguarding_actions": tuple(SafeguardingAction),
            "safeguarding_labels": ACTION_LABELS}


def _state_of(item_id: int) -> Any:
    try:
        return _store().safeguarding.state(item_id)
    except NotFound:
        return None


@bp.route("/items/<int:item_id>/safeguarding/action", methods=["POST"])
@requires(Role.CASEWORKER)
def record_action(item_id: int) -> Response | tuple[str, int]:
    """Record what was done about the flag (the note is kept in the form when it is refused)."""
    try:
        chosen = decisions.record_safeguarding_action(_store(), item_id, request.form.get("action", ""),
                                                      request.form.get("note", ""), g.user.username,
                                                      items._version())
    except Conflict as exc:
        return items._conflict(item_id, exc)
    except InvalidAction as exc:
        return items._refused(item_id, items._sentence(str(exc)), field="#safeguarding-note")
    flash(f"Safeguarding action recorded: {chosen.label}.", "success")
    return items._back(item_id, "safeguarding")


@bp.route("/items/<int:item_id>/safeguarding/clear", methods=["POST"])
@requires(Role.CASEWORKER)
def clear_flag(item_id: int) -> Response | tuple[str, int]:
    """Clear a false flag; the reason is required and goes on the supervisor's list."""
    try:
        decisions.clear_safeguarding_flag(_store(), item_id, request.form.get("reason", ""), g.user.username,
                                          items._version())
    except Conflict as exc:
        return items._conflict(item_id, exc)
    except InvalidAction as exc:
        return items._refused(item_id, items._sentence(str(exc)), field="#safeguarding-reason")
    flash("Safeguarding flag cleared; your reason is on the supervisors' list.", "success")
    return items._back(item_id, "safeguarding")


@bp.route("/supervisor/safeguarding")
@requires(Role.SUPERVISOR)
def review() -> str:
    """Every safeguarding decision, newest first: actions recorded and flags cleared, by whom and why."""
    return render_template("supervisor/safeguarding.html", decisions=_store().safeguarding.decisions(),
                           labels=ACTION_LABELS, flag_cleared=FLAG_CLEARED)


def _store() -> Any:
    return current_app.extensions["store"]
