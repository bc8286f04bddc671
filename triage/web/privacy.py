"""The supervisor's data protection page: subject access exports and two-person erasure.

A supervisor searches for a person (address, and a name or case reference whose matches they confirm)
and downloads the export; the export is an event. An erasure is asked for by one supervisor or admin
and carried out only when a different one confirms it.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for

from ..domain import Role
from ..errors import InvalidAction, NotFound
from ..privacy import erasure, subject_access
from ..privacy.store_part import privacy_part
from .security import requires

bp = Blueprint("privacy", __name__, url_prefix="/supervisor/privacy")


@bp.route("/")
@requires(Role.SUPERVISOR)
def index() -> str:
    """The search form and its results (GET, so a search can be repeated), and the erasure requests."""
    store = current_app.extensions["store"]
    person = {k: request.args.get(k, "").strip() for k in ("address", "name", "reference")}
    found, error = [], ""
    if person["address"]:
        try:
            found = subject_access.search(store, **person)
        except InvalidAction as exc:
            error = str(exc)
    today = current_app.extensions["clock"]().date()
    return render_template("privacy/index.html", person=person, found=found, error=error, today=today,
                           due=subject_access.due_date(today), requests=privacy_part(store).erasure_requests(),
                           done=privacy_part(store).erasure_requests(status=None)[:20])


@bp.route("/export", methods=["POST"])
@requires(Role.SUPERVISOR)
def export() -> Response:
    """The zip, as a download; only the messages ticked on the results (address matches come ticked)."""
    store = current_app.extensions["store"]
    address, name = request.form.get("address", "").strip(), request.form.get("name", "").strip()
    try:
        ids = [int(v) for v in request.form.getlist("message")]
        received = dt.date.fromisoformat(request.form.get("received", "")) if request.form.get("received") else None
    except ValueError:
        flash("The form was not filled in correctly: give the date the request arrived as YYYY-MM-DD.", "error")
        return redirect(url_for("privacy.index", address=address, name=name), code=303)
    if not ids:
        flash("Tick at least one message to export.", "error")
        return redirect(url_for("privacy.index", address=address, name=name), code=303)
    try:
        done = subject_access.make_export(store, address, ids, g.user.username, name=name, received=received)
    except InvalidAction as exc:
        flash(str(exc), "error")
        return redirect(url_for("privacy.index"), code=303)
    day = current_app.extensions["clock"]()
    return Response(done.data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="subject-access-{day:%Y%m%d}.zip"'})


@bp.route("/erasures", methods=["POST"])
@requires(Role.SUPERVISOR)
def request_erasure() -> Response:
    store = current_app.extensions["store"]
    try:
        item_id = int(request.form.get("item", ""))
        number = erasure.request_erasure(store, item_id, request.form.get("reason", ""), g.user.username)
    except ValueError:
        flash("Give the queue item's number (as shown in the queue).", "error")
    except (InvalidAction, NotFound) as exc:
        flash(str(exc), "error")
    else:
        flash(f"Erasure request {number} for item {item_id} made: another supervisor or admin must confirm it.",
              "success")
    return redirect(url_for("privacy.index"), code=303)


@bp.route("/erasures/<int:request_id>/<any(confirm, cancel):action>", methods=["POST"])
@requires(Role.SUPERVISOR)
def decide(request_id: int, action: str) -> Response:
    store, settings = current_app.extensions["store"], current_app.extensions["settings"]
    try:
        if action == "confirm":
            done, _ = erasure.confirm_erasure(settings, store, request_id, g.user.username)
            flash(f"Item {done.item_id}'s personal data was erased; the event log keeps a tombstone.", "success")
        else:
            erasure.cancel_erasure(store, request_id, g.user.username)
            flash(f"Erasure request {request_id} cancelled.", "success")
    except (InvalidAction, NotFound) as exc:
        flash(str(exc), "error")
    return redirect(url_for("privacy.index"), code=303)
