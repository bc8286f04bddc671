"""One item: the message shown safely, the classification, the draft, and the caseworker's actions.

Every action is a POST carrying the CSRF token and the item's version. When someone else changed
the item since the page was loaded, the action is refused with a 409 page that says who did what
and keeps everything the caseworker typed in the form, so nothing is lost. Approving writes the
decision, the outbox row and the event, then redirects: the send job does the SMTP work.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, flash, g, get_flashed_messages, redirect, render_template,
                   request, stream_with_context, url_for)

from replies.deadlines import changed_since_drafted, judge
from replies.drafting import london_today
from replies.facts import placeholder_line

from ..domain import OPEN_STATUSES, Role
from ..events import AttachmentDownloaded, Viewed
from ..errors import Conflict, InvalidAction, NotFound, SafeguardingActionMissing
from ..addresses import reply_recipient
from ..route_drafts import deadline_flags
from .. import decisions
from classifier.labels import Route, is_route
from ..store import ItemDetail, QueueQuery
from .display import ascii_filename, council_case_number, download_type, safe_filename, sanitise_html, split_quoted
from .queue import TODO
from .security import requires
from .unsaved import drafts as unsaved_drafts

bp = Blueprint("items", __name__)

FLAG_TEXT = {
    "deadline_unknown": "No decision-letter date was found: the draft explains the rule instead of giving dates.",
    "deadline_approximate": "The decision-letter date was worked out from an incomplete date: check it.",
    "deadline_passed": "A deadline for the parent has passed (judged today).",
    "deadline_near": "A deadline for the parent is within 10 days (judged today).",
    "deadline_changed": "The draft's deadlines no longer hold today: re-draft it, or confirm you checked them "
                        "when you approve.",
    "no_reply_address": "The message has no address a reply can go to (see where the reply goes, below).",
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
    _store().events.record(Viewed(), g.user.username, item=item_id)
    kept = unsaved_drafts(current_app).take(request.args.get("restore", ""), item_id)
    if kept is not None:  # typed before the session ended (triage/web/unsaved.py): back in the form, unsaved
        return _page(detail, restored=True, subject=kept.subject, text=kept.text)
    return _page(detail)


@bp.route("/items/<int:item_id>/claim", methods=["POST"])
@requires(Role.CASEWORKER)
def claim(item_id: int) -> Response | tuple[str, int]:
    release = request.form.get("action") == "release"
    try:
        (decisions.release if release else decisions.claim)(_store(), item_id, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc)
    flash("You released the item." if release else "The item is yours.", "success")
    return _back(item_id, "glance")


@bp.route("/items/<int:item_id>/draft", methods=["POST"])
@requires(Role.CASEWORKER)
def draft(item_id: int) -> Response | tuple[str, int]:
    """Save the edited draft as a new version; with action=approve, save it and approve it for sending
    in one transaction (triage.decisions.approve): a refused approval keeps nothing, the text stays in the form."""
    subject, text = request.form.get("subject", ""), request.form.get("text", "")
    kept = {"subject": subject, "text": text}
    store = _store()
    if request.form.get("action") == "approve":
        try:
            decisions.approve(store, current_app.extensions["settings"].service, item_id, g.user.username,
                              _version(), today=_today(), edit=(subject, text),
                              confirm_deadlines=request.form.get("confirm_deadlines") == "yes")
        except Conflict as exc:
            return _conflict(item_id, exc, **kept)
        except InvalidAction as exc:
            return _refused(item_id, f"Not approved: {_reason(exc, text)}", field=_refused_field(exc), **kept)
        return _next_item(item_id, "Approved: the reply is in the outbox and goes out with the next send.")
    try:
        saved = decisions.save_draft(store, item_id, subject, text, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, **kept)
    except InvalidAction as exc:
        return _refused(item_id, _sentence(str(exc)), field="#text", **kept)
    flash(f"Draft saved (version {saved}).", "success")
    return _back(item_id)


@bp.route("/items/<int:item_id>/route", methods=["POST"])
@requires(Role.CASEWORKER)
def route(item_id: int) -> Response | tuple[str, int]:
    """Give the item another route; the draft is rendered again from that route's template.

    The route controls sit in the draft's form, so the text being edited comes too: when it differs
    from the saved draft it is saved as a version first, and the re-drafting never loses it."""
    new_route = request.form.get("route", "")
    kept = {k: request.form[k] for k in ("subject", "text") if k in request.form}
    if not is_route(new_route):
        return _refused(item_id, "Choose one of the routes in the list.", field="#route", **kept)
    store, version = _store(), _version()
    edit_saved = None
    try:
        detail = store.items.detail(item_id)
        before = detail.route
        if "text" in kept and (kept["text"].replace("\r\n", "\n") != detail.draft.text
                               or kept.get("subject", detail.draft.subject) != detail.draft.subject):
            edit_saved = decisions.save_draft(store, item_id, kept.get("subject", detail.draft.subject), kept["text"],
                                                g.user.username, version)
            version = store.items.detail(item_id).version
        drafted = decisions.change_route(store, current_app.extensions["book"], item_id, new_route, g.user.username,
                               version, today=_today())
    except Conflict as exc:
        return _conflict(item_id, exc, **kept)
    except InvalidAction as exc:
        return _refused(item_id, _sentence(str(exc)), **kept)
    saved = f"Your edit was saved as version {edit_saved}. " if edit_saved else ""
    if new_route == before:
        flash(f"{saved}The draft was written again with today's deadlines (version {drafted}); earlier versions "
              f"are kept under Details.", "success")
    else:
        flash(f"{saved}Route changed to {new_route.replace('_', ' ')}: the draft was written again (version "
              f"{drafted}); earlier versions are kept under Details.", "success")
    return _back(item_id)


@bp.route("/items/<int:item_id>/reject", methods=["POST"])
@requires(Role.CASEWORKER)
def reject(item_id: int) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "")
    try:
        decisions.reject(_store(), item_id, reason, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, reason=reason)
    except InvalidAction as exc:
        return _refused(item_id, _sentence(str(exc)), field="#reason", reason=reason)
    return _next_item(item_id, "Rejected: no reply will be sent.")


@bp.route("/items/<int:item_id>/handled", methods=["POST"])
@requires(Role.CASEWORKER)
def handled(item_id: int) -> Response | tuple[str, int]:
    note = request.form.get("note", "")
    try:
        decisions.mark_handled_elsewhere(_store(), item_id, note, g.user.username, _version())
    except Conflict as exc:
        return _conflict(item_id, exc, note=note)
    except InvalidAction as exc:
        return _refused(item_id, _sentence(str(exc)), note=note)
    return _next_item(item_id, "Marked as handled elsewhere: no reply will be sent from here.")


@bp.route("/items/<int:item_id>/attachments/<int:index>")
@requires(Role.CASEWORKER)
def attachment(item_id: int, index: int) -> Response:
    """An attachment, always downloaded (never shown in the page), under a safe name and type. Its bytes
    are streamed from the store a piece at a time (triage.store.attachments): nothing is parsed, and a
    download holds one piece, not the message."""
    try:
        found = _store().attachments.open(item_id, index)
    except NotFound:
        abort(404)
    name = safe_filename(found.filename, index)
    _store().events.record(AttachmentDownloaded(index), g.user.username, item=item_id)
    response = Response(stream_with_context(found.chunks()), mimetype=download_type(found.content_type, name))
    response.headers["Content-Length"] = str(found.size)
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{ascii_filename(name)}\"; "
                                               f"filename*=UTF-8''{quote(name)}")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# -- rendering -----------------------------------------------------------------------------------

def _page(item: ItemDetail, status: int = 200, problem: str = "", conflict: str = "", field: str = "",
          restored: bool = False, **kept: str) -> Any:
    draft = item.draft
    today = _today()
    judged = judge(draft.meta, today)
    stale = changed_since_drafted(draft.meta, judged)
    flags = [f for f in item.flags if f not in _DAY_FLAGS] + list(deadline_flags(judged))
    if stale:
        flags.append("deadline_changed")
    html = render_template(
        "queue/item.html", item=item, draft=draft, is_open=item.status in OPEN_STATUSES,
        message_html=sanitise_html(item.message.html), routes=tuple(Route), flag_text=FLAG_TEXT, flags=flags,
        judged=judged, stale=stale, today=today,
        has_placeholder=bool(placeholder_line(draft.text)), problem=problem, conflict=conflict,
        recipient=reply_recipient(item.message.from_address, item.message.reply_to),
        form={"subject": kept.get("subject", draft.subject), "text": kept.get("text", draft.text),
              "reason": kept.get("reason", ""), "note": kept.get("note", "")},
        kept_text="text" in kept, restored=restored, problem_field=field if problem else "",
        errors=_errors(problem, field, conflict, "text" in kept),
        case_number=council_case_number(item.message.subject), message_parts=split_quoted(item.message.text),
        attachment_names=[safe_filename(a.filename, i) for i, a in enumerate(item.message.attachments)],
    )
    return (html, status) if status != 200 else html


def _errors(problem: str, field: str, conflict: str, kept_text: bool) -> list[tuple[str, str]]:
    """The error summary's lines: (the anchor of the field or part concerned, the message)."""
    errors = [("#text" if kept_text else "#draft", conflict)] if conflict else []
    if problem:
        errors.append((field or "#draft", problem))
    errors += [("#draft", m) for m in get_flashed_messages(category_filter=["error"])]
    return errors


def _next_item(item_id: int, done: str) -> Response:
    """After a decision, straight on to the next item in the to-do queue (most urgent first) that
    nobody else has claimed; the queue when there is none."""
    page = _store().items.queue_page(QueueQuery(statuses=TODO, per_page=20, sort="urgency"))
    following = next((r for r in page.rows if r.id != item_id and r.claimed_by in (None, g.user.username)), None)
    if following is None:
        flash(f"{done} Nothing else is waiting for you.", "success")
        return redirect(url_for("queue.index"), code=303)
    flash(f"{done} This is the next item in the queue.", "success")
    return redirect(url_for("items.show", item_id=following.id) + "#glance", code=303)


def _conflict(item_id: int, exc: Conflict, **kept: str) -> tuple[str, int]:
    message = (f"Not saved: {exc}. The page now shows the item as it is; what you typed is still in the form "
               f"below. Check it against the latest changes, then send it again.")
    return _page(_detail(item_id), 409, conflict=message, **kept)


def _refused(item_id: int, message: str, field: str = "", **kept: str) -> tuple[str, int]:
    """The page again with the problem in the error summary and beside its field, and the typed text kept."""
    return _page(_detail(item_id), 400, problem=message, field=field, **kept)


def _detail(item_id: int) -> ItemDetail:
    try:
        return _store().items.detail(item_id)
    except NotFound:
        abort(404)


def _reason(exc: InvalidAction, draft_text: str = "") -> str:
    """Why approving was refused, in the caseworker's terms (the service's message names CLI commands
    and cuts the placeholder short, which a caseworker can do nothing with)."""
    text = str(exc)
    text = text.split(": ", 1)[1] if text.startswith("item ") and ": " in text else text
    line = placeholder_line(draft_text)
    if "placeholder" in text and line:
        return (f"its draft still has a placeholder to fill in ({line.strip()}). Write that part of the reply, "
                f"or ask an administrator to fill in the council's route facts.")
    return text


def _refused_field(exc: InvalidAction) -> str:
    """Where a refused approval sends the caseworker: the safeguarding choice when no action is recorded
    (the box's first radio button, templates/queue/_safeguarding.html), otherwise the reply text."""
    return "#safeguarding-referral_made" if isinstance(exc, SafeguardingActionMissing) else "#text"


def _sentence(text: str) -> str:
    """A store refusal ('item 12 is approved: it can...') as a sentence for the page ('This item is...')."""
    text = re.sub(r"^item \d+('s)? ", lambda m: "This item's " if m.group(1) else "This item ", text.strip())
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        abort(400)


def _back(item_id: int, place: str = "draft") -> Response:
    """Back to the item, at the part the caseworker acted in (the draft column or the summary box)."""
    return redirect(url_for("items.show", item_id=item_id) + f"#{place}", code=303)


def _today() -> Any:
    """England's date by the app's clock: the day deadlines are judged on."""
    return london_today(current_app.extensions["clock"]())


def _store() -> Any:
    return current_app.extensions["store"]
