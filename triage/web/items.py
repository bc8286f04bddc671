"""One item: the message shown safely, the classification, the draft, and the caseworker's actions.

Every action is a POST carrying the CSRF token and the item's version. When someone else changed
the item since the page was loaded, the action is refused with a 409 page that says who did what
and keeps everything the caseworker typed in the form, so nothing is lost. Approving writes the
decision, the outbox row and the event, then redirects: the send job does the SMTP work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from replies.deadlines import changed_since_drafted, judge
from replies.drafting import london_today
from replies.facts import placeholder_line

from ..domain import OPEN_STATUSES, Role
from ..errors import Conflict, InvalidAction, NotFound
from ..parsing import attachment_payloads
from ..pipeline import deadline_flags
from ..service import approve_item, change_route
from ..settings import ROUTES
from ..store import ItemDetail
from .display import ascii_filename, download_type, safe_filename, sanitise_html
from .security import requires

bp = Blueprint("items", __name__)

FLAG_TEXT = {
    "deadline_unknown": "No decision-letter date was found: the draft explains the rule instead of giving dates.",
    "deadline_approximate": "The decision-letter date was worked out from an incomplete date: check it.",
    "deadline_passed": "A deadline for the parent has passed (judged today).",
    "deadline_near": "A deadline for the parent is within 10 days (judged today).",
    "deadline_changed": "The draft's deadlines no longer hold today: re-draft it, or confirm you checked them "
                        "when you approve.",
    "no_reply_address": "The message has no address to reply to.",
    "placeholder": "The draft still has a placeholder (the council's or the caseworker's) to fill in: it cannot "
                   "be approved.",
}
# Flags judged again on the day the item is shown; the ones stored at intake are of that day.
_DAY_FLAGS = ("deadline_passed", "deadline_near", "deadline_changed")


@bp.route("/items/<int:item_id>")
@requires(Role.CASEWORKER)
def show(item_id: int) -> str:
    """The item; opening it is an event, so supervisors can see who read a child's details."""
    detail = _detail(item_id)
    _store().record_event("viewed", g.user.username, item=item_id)
    return _page(detail)


@bp.route("/items/<int:item_id>/claim", methods=["POST"])
@requires(Role.CASEWORKER)
def claim(item_id: int) -> Response | tuple[str, int]:
    release = request.form.get("action") == "release"
    try:
        _store().claim(item_id, g.user.username, _version(), release=release)
    except Conflict as exc:
        return _conflict(item_id, exc)
    flash("You released the item." if release else "The item is yours.", "success")
    return _back(item_id)


@bp.route("/items/<int:item_id>/draft", methods=["POST"])
@requires(Role.CASEWORKER)
def draft(item_id: int) -> Response | tuple[str, int]:
    """Save the edited draft as a new version; with action=approve, then approve it for sending."""
    subject, text = request.form.get("subject", ""), request.form.get("text", "")
    kept = {"subject": subject, "text": text}
    store = _store()
    try:
        saved = store.save_draft(item_id, subject, text, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, **kept)
    except InvalidAction as exc:
        return _refused(item_id, str(exc), **kept)
    if request.form.get("action") != "approve":
        flash(f"Draft saved (version {saved}).", "success")
        return _back(item_id)
    try:
        approve_item(current_app.extensions["settings"], store, item_id, g.user.username, draft_version=saved,
                     today=_today(), confirm_deadlines=request.form.get("confirm_deadlines") == "yes")
    except Conflict as exc:
        return _conflict(item_id, exc, **kept)
    except InvalidAction as exc:
        flash(f"Not approved: {_reason(exc)}", "error")
        return _back(item_id)
    flash("Approved: the reply is in the outbox and goes out with the next send.", "success")
    return redirect(url_for("queue.index"), code=303)


@bp.route("/items/<int:item_id>/route", methods=["POST"])
@requires(Role.CASEWORKER)
def route(item_id: int) -> Response | tuple[str, int]:
    """Give the item another route; the draft is rendered again from that route's template."""
    new_route = request.form.get("route", "")
    if new_route not in ROUTES:
        return _refused(item_id, "Choose one of the routes in the list.")
    try:
        before = _store().item_detail(item_id).route
        version = change_route(_store(), current_app.extensions["book"], item_id, new_route, g.user.username,
                               _version(), today=_today())
    except Conflict as exc:
        return _conflict(item_id, exc)
    except InvalidAction as exc:
        return _refused(item_id, str(exc))
    if new_route == before:
        flash(f"The draft was written again with today's deadlines (version {version}); earlier versions are kept "
              f"below.", "success")
    else:
        flash(f"Route changed to {new_route.replace('_', ' ')}: the draft was written again (version {version}); "
              f"earlier versions are kept below.", "success")
    return _back(item_id)


@bp.route("/items/<int:item_id>/reject", methods=["POST"])
@requires(Role.CASEWORKER)
def reject(item_id: int) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "")
    try:
        _store().reject(item_id, reason, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, reason=reason)
    except InvalidAction as exc:
        return _refused(item_id, str(exc), reason=reason)
    flash("Rejected: no reply will be sent.", "success")
    return redirect(url_for("queue.index"), code=303)


@bp.route("/items/<int:item_id>/handled", methods=["POST"])
@requires(Role.CASEWORKER)
def handled(item_id: int) -> Response | tuple[str, int]:
    note = request.form.get("note", "")
    try:
        _store().mark_handled_elsewhere(item_id, note, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, note=note)
    except InvalidAction as exc:
        return _refused(item_id, str(exc), note=note)
    flash("Marked as handled elsewhere: no reply will be sent from here.", "success")
    return redirect(url_for("queue.index"), code=303)


@bp.route("/items/<int:item_id>/attachments/<int:index>")
@requires(Role.CASEWORKER)
def attachment(item_id: int, index: int) -> Response:
    """An attachment, always downloaded (never shown in the page), under a safe name and type."""
    try:
        raw = _store().item_raw(item_id)
    except NotFound:
        abort(404)
    parts = attachment_payloads(raw)
    if not 0 <= index < len(parts):
        abort(404)
    found, data = parts[index]
    name = safe_filename(found.filename, index)
    _store().record_event("attachment_downloaded", g.user.username, item=item_id, data={"attachment": index})
    response = Response(data, mimetype=download_type(found.content_type, name))
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{ascii_filename(name)}\"; "
                                               f"filename*=UTF-8''{quote(name)}")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# -- rendering -----------------------------------------------------------------------------------

def _page(item: ItemDetail, status: int = 200, problem: str = "", conflict: str = "", **kept: str) -> Any:
    draft = item.draft
    today = _today()
    judged = judge(draft.meta, today)
    stale = changed_since_drafted(draft.meta, judged)
    flags = [f for f in item.flags if f not in _DAY_FLAGS] + list(deadline_flags(judged))
    if stale:
        flags.append("deadline_changed")
    html = render_template(
        "queue/item.html", item=item, draft=draft, is_open=item.status in OPEN_STATUSES,
        message_html=sanitise_html(item.message.html), routes=ROUTES, flag_text=FLAG_TEXT, flags=flags,
        judged=judged, stale=stale, today=today,
        has_placeholder=bool(placeholder_line(draft.text)), problem=problem, conflict=conflict,
        form={"subject": kept.get("subject", draft.subject), "text": kept.get("text", draft.text),
              "reason": kept.get("reason", ""), "note": kept.get("note", "")},
        kept_text="text" in kept,
        attachment_names=[safe_filename(a.filename, i) for i, a in enumerate(item.message.attachments)],
    )
    return (html, status) if status != 200 else html


def _conflict(item_id: int, exc: Conflict, **kept: str) -> tuple[str, int]:
    message = (f"Not saved: {exc}. The page now shows the item as it is; what you typed is still in the form "
               f"below. Check it against the latest changes, then send it again.")
    return _page(_detail(item_id), 409, conflict=message, **kept)


def _refused(item_id: int, message: str, **kept: str) -> tuple[str, int]:
    return _page(_detail(item_id), 400, problem=message, **kept)


def _detail(item_id: int) -> ItemDetail:
    try:
        return _store().item_detail(item_id)
    except NotFound:
        abort(404)


def _reason(exc: InvalidAction) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("item ") and ": " in text else text


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        abort(400)


def _back(item_id: int) -> Response:
    return redirect(url_for("items.show", item_id=item_id), code=303)


def _today() -> Any:
    """England's date by the app's clock: the day deadlines are judged on."""
    return london_today(current_app.extensions["clock"]())


def _store() -> Any:
    return current_app.extensions["store"]
