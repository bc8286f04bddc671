"""Unsaved draft text kept across an ended session, so nothing a caseworker typed is lost.

A caseworker may spend longer on a reply than the idle timeout. When the session has ended by the
time they press Save or Approve, the POST cannot be acted on (nobody is signed in), but its text
must not vanish. The browser may still hold the ended session (its CSRF token then proves the form
came from our page) or may have dropped the cookie already (then the browser's own
`Sec-Fetch-Site: same-origin` says so; a form posted from another site is never kept). The subject
and text are kept here, in the server's memory, under a random token, and the browser is sent to
sign in with `next` set to the item's page with that token (a GET: the POST address would answer
"Method Not Allowed"). After signing in, the page shows the kept text in the form, unsaved, with a
notice; a token is taken once, and only for the item it was posted for.

Kept in memory rather than the database: the text is a draft that was never saved, it lives at most
`session_absolute_hours`, and a server restart losing it is no worse than before. One process serves
the app (waitress threads), so a lock is enough.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from flask import Flask, Request, flash, url_for

EXTENSION = "unsaved_drafts"  # app.extensions key
MAX_KEPT = 500  # at most this many kept texts; the oldest go first
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Kept:
    item_id: int
    subject: str
    text: str
    at: float


class UnsavedDrafts:
    """A random token -> the item, subject and text of a draft posted after the session ended."""

    def __init__(self, keep_seconds: int = KEEP_SECONDS) -> None:
        self._kept: dict[str, Kept] = {}
        self._lock = threading.Lock()
        self._keep_seconds = keep_seconds

    def keep(self, item_id: int, subject: str, text: str) -> str:
        """Keep the text; returns the token that takes it back."""
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._forget_old()
            self._kept[token] = Kept(item_id, subject, text, time.monotonic())
            while len(self._kept) > MAX_KEPT:
                self._kept.pop(next(iter(self._kept)))
        return token

    def take(self, token: str, item_id: int) -> Kept | None:
        """The text kept under `token` for this item (once), else None."""
        with self._lock:
            self._forget_old()
            kept = self._kept.get(token)
            if kept is None or kept.item_id != item_id:
                return None
            return self._kept.pop(token)

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self._keep_seconds
        for key in [k for k, v in self._kept.items() if v.at < cutoff]:
            del self._kept[key]


def drafts(app: Flask) -> UnsavedDrafts:
    return app.extensions.setdefault(EXTENSION, UnsavedDrafts())


def after_session_ended(app: Flask, request: Request, ended_csrf: str | None) -> str:
    """Where to send a POST that arrived with no signed-in user, keeping its draft text when it is one.

    Returns the `next` path for the sign-in page: the item's own page for any item action (never the
    POST-only action address, which answered "Method Not Allowed" after signing in), else the queue.
    """
    args = request.view_args or {}
    item_id = args.get("item_id")
    if not (request.endpoint or "").startswith("items.") or not isinstance(item_id, int):
        return url_for("queue.index")
    target = url_for("items.show", item_id=item_id)
    if "text" in request.form and _from_our_page(request, ended_csrf):
        token = drafts(app).keep(item_id, request.form.get("subject", ""), request.form.get("text", ""))
        target = url_for("items.show", item_id=item_id, restore=token)
        flash("Your session ended, so your changes were not saved yet. Sign in again: what you typed is kept "
              "and comes back in the form.", "info")
    return target + "#draft"


def _from_our_page(request: Request, ended_csrf: str | None) -> bool:
    given = request.form.get("csrf_token", "")
    if ended_csrf and given and hmac.compare_digest(str(ended_csrf), given):
        return True
    return request.headers.get("Sec-Fetch-Site") == "same-origin"
