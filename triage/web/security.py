"""What every request goes through: the signed-in user, the role check, the CSRF check, the headers.

Views declare who may use them with @requires(Role...) or @public; a view that declares neither
is refused to everybody, so a forgotten decorator fails closed rather than open.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any, Callable, TypeVar

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for

from ..domain import Role
from ..settings import WebSettings
from ..store import Store
from . import unsaved

CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

View = TypeVar("View", bound=Callable[..., Any])


def requires(role: Role) -> Callable[[View], View]:
    """Only signed-in users with at least this role may use the view."""
    def mark(view: View) -> View:
        view._required_role = role  # type: ignore[attr-defined]
        return view
    return mark


def public(view: View) -> View:
    """Anyone may use the view, signed in or not."""
    view._public = True  # type: ignore[attr-defined]
    return view


def csrf_token() -> str:
    """This session's token for the hidden csrf_token field of every form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def start_session(user: Any) -> None:
    """A fresh session for a user who has just signed in (a new token, nothing carried over).

    The cookie carries the account's session version: signing out, a new password or disabling the
    account moves the version on, and every copy of an older cookie stops working at its next request.
    """
    session.clear()
    session.permanent = True
    now = int(time.time())
    session["user"] = user.username
    session["version"] = user.session_version
    session["started"] = now
    session["seen"] = now
    session["csrf"] = secrets.token_urlsafe(32)


def end_session() -> None:
    """Forget this browser's session (the account's other sessions end by its version moving on)."""
    session.clear()


def install(app: Flask, store: Store, web: WebSettings) -> None:
    """Hook the user, CSRF and role checks and the security headers into the app."""

    @app.before_request
    def check() -> Response | None:
        ended_csrf = session.get("csrf")  # issue 15: proves a POST after the session ended came from our page
        g.user = _current_user(store, web)
        if request.endpoint is None:  # no such page: Flask answers 404 (or 405)
            return None
        view = app.view_functions.get(request.endpoint)
        role = None
        if request.endpoint != "static" and not getattr(view, "_public", False):
            role = getattr(view, "_required_role", None)
            if role is None:
                abort(403)
            if g.user is None:
                # Issue 15: a POST after the session ended returns to the item's page (a GET) after signing
                # in, with any draft text it carried kept for it (triage/web/unsaved.py).
                target = (unsaved.after_session_ended(app, request, ended_csrf) if request.method == "POST"
                          else request.full_path.rstrip("?"))
                return redirect(url_for("auth.login", next=target))
        if request.method == "POST" and not _csrf_ok():
            return Response(render_template("error.html", title="This form has expired",
                                            message="The form was not sent from this site's current page, or your "
                                                    "session ended. Go back, reload the page and try again."),
                            status=400)
        if role is not None and not g.user.role.at_least(role):
            abort(403)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint == "static":
            response.headers["Cache-Control"] = "public, max-age=3600"
        else:
            response.headers["Cache-Control"] = "no-store"  # pages hold personal data
        return response

    app.jinja_env.globals["csrf_token"] = csrf_token


def _current_user(store: Store, web: WebSettings) -> Any:
    username = session.get("user")
    if not username:
        return None
    now = int(time.time())
    if now - _int(session.get("started")) > web.session_absolute_hours * 3600:
        return _ended("Your session has reached its time limit. Please sign in again.")
    if now - _int(session.get("seen")) > web.session_minutes * 60:
        return _ended("Your session ended after a period without activity. Please sign in again.")
    user = store.accounts.get_user(username)
    if user is None or not user.active or session.get("version") != user.session_version:
        return _ended("Your session has ended. Please sign in again.")
    if now - _int(session.get("seen")) > 30:  # refresh the idle timer without a new cookie on every request
        session["seen"] = now
    return user


def _ended(message: str) -> None:
    session.clear()
    flash(message, "info")
    return None


def _int(value: object) -> int:
    """A number from the (signed) cookie; anything else counts as long ago."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(str(expected), given)
