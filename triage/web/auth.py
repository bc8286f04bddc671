"""Signing in and out: argon2-checked passwords, growing delays after failures, logged attempts."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from ..domain import Role
from ..events import LoginRefused
from .passwords import verify_password
from .security import end_session, public, requires, start_session
from .throttle import RefusalLog, refusal

bp = Blueprint("auth", __name__)
REFUSALS = "sign_in_refusals"  # app.extensions key: the RefusalLog
MAX_NEXT_LENGTH = 2000
_UNSAFE_IN_NEXT = re.compile(r"[\\\s\x00-\x1f\x7f]")  # backslash, any whitespace, control characters


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.extensions[REFUSALS] = RefusalLog()


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int, dict[str, str]] | tuple[str, int]:
    """The sign-in form; on success, a fresh session and on to the page asked for."""
    store, web = current_app.extensions["store"], current_app.extensions["web"]
    target = safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if g.user is not None:
            return redirect(target)
        return render_template("auth/login.html", next=target, username="")

    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")
    address = (request.remote_addr or "unknown")[:64]
    now = current_app.extensions["clock"]()  # the app's clock: tests move it instead of waiting out a delay
    window = dt.timedelta(minutes=web.login_window_minutes)
    refused = refusal(store.accounts.login_failures(username, address, now - window), now,
                      web.login_delay_max_seconds)
    if refused is not None:  # answered before any password is hashed
        repeats = current_app.extensions[REFUSALS].note(address)
        if repeats is not None:
            store.events.record(LoginRefused(username=username, address=address, reason=refused.reason,
                                             repeats=repeats), "anonymous")
        flash(f"Too many failed sign-ins. Wait {_seconds(refused.wait_seconds)} and try again.", "error")
        return (render_template("auth/login.html", next=target, username=username), 429,
                {"Retry-After": str(refused.wait_seconds)})

    user = store.accounts.get_user(username) if username else None
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        reason = "unknown user" if user is None else ("disabled" if not user.active else "wrong password")
        store.accounts.record_login_failure(username, address, reason, at=now, forget_before=now - window)
        flash("The username or password is wrong, or the account is disabled.", "error")
        return render_template("auth/login.html", next=target, username=username), 401

    store.accounts.record_login(user.username, address)
    start_session(user)
    return redirect(target)


@bp.route("/logout", methods=["GET", "POST"])
@requires(Role.CASEWORKER)
def logout() -> Response | str:
    """GET asks to confirm (a link cannot sign anyone out); POST ends every session of the account."""
    if request.method == "GET":
        return render_template("auth/logout.html")
    current_app.extensions["store"].accounts.record_logout(g.user.username)
    end_session()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


def safe_next(target: str) -> str:
    """Only a path on this site: no scheme, no host ('//evil.example'), no backslash, whitespace or
    control character (a browser drops a tab, so '/\\t/evil.example' would become '//evil.example')."""
    if (target.startswith("/") and not target.startswith("//") and len(target) <= MAX_NEXT_LENGTH
            and not _UNSAFE_IN_NEXT.search(target) and _printable(target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("queue.index")


def _printable(text: str) -> bool:
    """No invisible format or separator characters (Unicode categories C* and Z*) that a browser may drop."""
    return not any(unicodedata.category(c)[0] in "CZ" for c in text)


def _seconds(n: int) -> str:
    if n < 120:
        return f"{n} second{'s' if n != 1 else ''}"
    return f"{-(-n // 60)} minutes"
