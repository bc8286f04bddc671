"""The caseworkers' web app (Flask): create_app(settings, store=None), one blueprint per area.

Views call Store methods (and service functions that compose them); they never build queries.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Callable

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from ..domain import Role
from ..triaging import reply_due
from ..service import open_store, route_book
from ..settings import Settings, WebSettings
from ..domain import now
from ..events import title_of
from ..store import Store
from . import admin, auth, health, items, privacy, queue, safeguarding, security, supervisor

__all__ = ["create_app", "secret_key"]

SECRET_FILE = "web-secret-key"


def create_app(settings: Settings, store: Store | None = None, web: WebSettings | None = None,
               clock: Callable[[], dt.datetime] = now) -> Flask:
    """The app for these settings, on `store` (else the configured database, migrated). `clock` is
    what "now" is: deadlines are judged, and the queue's ages counted, on its day."""
    web = web or settings.web or WebSettings()
    store = store or open_store(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings, web),
        # __Host-: the browser only accepts it over HTTPS, for this host, path /.
        SESSION_COOKIE_NAME="__Host-ehc_session" if web.secure_cookies else "ehc_session",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=web.session_minutes),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions.update(store=store, settings=settings, web=web, book=route_book(settings), clock=clock)
    days = settings.acknowledgement.reply_within_working_days
    store.items.fill_missing_due_dates(lambda received: reply_due(received, days))
    # [web] proxy_count: waitress sets the client's address (triage.web.serve.proxy_options).
    security.install(app, store, web)
    for blueprint in (auth.bp, queue.bp, items.bp, supervisor.bp, admin.bp, health.bp, privacy.bp, safeguarding.bp):
        app.register_blueprint(blueprint)

    @app.errorhandler(HTTPException)
    def error(exc: HTTPException) -> tuple[str, int]:
        titles = {403: "You cannot open this page", 404: "Page not found"}
        messages = {403: "Your account does not have the role this page needs.",
                    404: "There is no such page or queue item. Check the address, or go back to the queue."}
        code = exc.code or 500
        return render_template("error.html", title=titles.get(code, exc.name),
                               message=messages.get(code, exc.description)), code

    app.jinja_env.filters.update(day=_day, moment=_moment, label=_label, show=_show, event=title_of)
    app.jinja_env.globals["Role"] = Role
    return app


def secret_key(settings: Settings, web: WebSettings) -> str:
    """The key that signs session cookies: from the environment variable [web] secret_key_env names,
    else generated on first run and kept (mode 0600) in the data directory."""
    if web.secret_key:
        return web.secret_key
    path = Path(settings.service.data_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _day(value: dt.datetime | dt.date | None) -> str:
    return "" if value is None else f"{value:%a} {value.day} {value:%b %Y}"


def _moment(value: dt.datetime | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y %H:%M} UTC"


def _show(value: object) -> str:
    """An event's data value in words: lists joined, yes/no, a dash for nothing."""
    if value is None or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))} {_show(v)}" for k, v in value.items())
    return str(value)


def _label(value: str | None) -> str:
    return (value or "").replace("_", " ")
