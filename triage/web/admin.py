"""Account administration in the browser: the list of users, and disabling one (adding is `users add`)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..domain import Role
from ..errors import InvalidAction, NotFound
from .security import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=current_app.extensions["store"].accounts.list_users())


@bp.route("/users/disable", methods=["POST"])
@requires(Role.ADMIN)
def disable() -> Response:
    username = request.form.get("username", "")
    if username == g.user.username:
        flash("You cannot disable your own account here; ask another administrator.", "error")
        return redirect(url_for("admin.users"), code=303)
    try:
        current_app.extensions["store"].accounts.disable_user(username, g.user.username)
    except (InvalidAction, NotFound) as exc:
        flash(str(exc), "error")
    else:
        flash(f"{username} can no longer sign in.", "success")
    return redirect(url_for("admin.users"), code=303)
