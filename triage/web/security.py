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


def start_session(username: str) -> None:
    """A fresh session for a user who has just signed in (a new token, nothing carried over)."""
    session.clear()
    session.permanent = True
    session["user"] = username
    session["seen"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(32)


def install(app: Flask, store: Store, web: WebSettings) -> None:
    """Hook the user, CSRF and role checks and the security headers into the app."""

    @app.before_request
    def check() -> Response | None:
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
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
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
    if now - int(session.get("seen", 0)) > web.session_minutes * 60:
        session.clear()
        flash("Your session ended after a period without activity. Please sign in again.", "info")
        return None
    user = store.get_user(username)
    if user is None or not user.active:
        session.clear()
        return None
    if now - int(session.get("seen", 0)) > 30:  # refresh the idle timer without a new cookie on every request
        session["seen"] = now
    return user


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(str(expected), given)
