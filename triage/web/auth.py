"""Signing in and out: argon2-checked passwords, a per-username-and-address rate limit, logged attempts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..domain import Role
from .passwords import verify_password
from .security import public, requires, start_session

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    """The sign-in form; on success, a fresh session and on to the page asked for."""
    store, web = current_app.extensions["store"], current_app.extensions["web"]
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if g.user is not None:
            return redirect(target)
        return render_template("auth/login.html", next=target, username="")

    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    now = dt.datetime.now(dt.timezone.utc)
    window = dt.timedelta(minutes=web.login_window_minutes)
    if store.login_failures(username, address, now - window) >= web.login_attempts:
        store.record_event("login_refused", "anonymous",
                           data={"username": username, "address": address, "reason": "too many failed attempts"})
        flash(f"Too many failed sign-ins for this account from your address. Wait {web.login_window_minutes} "
              f"minutes and try again, or ask an administrator.", "error")
        return render_template("auth/login.html", next=target, username=username), 429

    user = store.get_user(username) if username else None
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        reason = "unknown user" if user is None else ("disabled" if not user.active else "wrong password")
        store.record_login_failure(username, address, reason, forget_before=now - window)
        flash("The username or password is wrong, or the account is disabled.", "error")
        return render_template("auth/login.html", next=target, username=username), 401

    store.record_login(user.username, address)
    start_session(user.username)
    return redirect(target)


@bp.route("/logout", methods=["GET", "POST"])
@requires(Role.CASEWORKER)
def logout() -> Response | str:
    """GET asks to confirm (a link cannot sign anyone out); POST ends the session."""
    if request.method == "GET":
        return render_template("auth/logout.html")
    current_app.extensions["store"].record_event("logged_out", g.user.username)
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str) -> str:
    """Only a path on this site, never another host ('//evil.example', 'https://...', backslashes)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and "\n" not in target:
        return target
    return url_for("queue.index")
