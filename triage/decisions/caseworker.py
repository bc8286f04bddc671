"""The caseworker's decisions on one item other than approving: claim, release, edit the draft, change
the route (re-draft), reject, mark handled elsewhere.

Each is one store transaction that checks the item's version (the one the caseworker's form was built
from) and that its status allows the decision (triage.domain.transitions), and writes its event.
The web app (triage.web.items) and the CLI call these functions, never the store's methods directly.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from classifier.labels import Route, is_route
from replies import RouteBook
from replies.drafting import london_today

from ..domain import now
from ..errors import InvalidAction
from ..parsing import parse_message
from ..route_drafts import draft_for_route

if TYPE_CHECKING:
    from ..store import Store


def claim(store: Store, item_id: int, actor: str, expected_version: int | None = None) -> None:
    """Claim the item for `actor`, taking it over from whoever had it."""
    store.items.claim(item_id, actor, expected_version)


def release(store: Store, item_id: int, actor: str, expected_version: int | None = None) -> None:
    """Give up the claim on the item."""
    store.items.claim(item_id, actor, expected_version, release=True)


def save_draft(store: Store, item_id: int, subject: str, text: str, actor: str,
               expected_version: int | None = None) -> int:
    """Keep an edited draft as a new version (sent as plain text); returns the draft's version."""
    return store.items.save_draft(item_id, subject, text, actor, expected_version)


def change_route(store: Store, book: RouteBook, item_id: int, route: str, actor: str,
                 expected_version: int | None = None, today: dt.date | None = None) -> int:
    """Give an item another route (or the same one: a re-draft): its draft is rendered again from that
    route's template with the deadlines judged on `today` (earlier versions are kept); returns the new
    draft's version. Re-drafting reads the message's text and dates, so it parses the stored message."""
    if not is_route(route):
        raise InvalidAction(f"unknown route {route!r}; choose one of {', '.join(Route)}")
    detail = store.items.detail(item_id)
    parsed = parse_message(store.messages.raw(item_id))
    drafted = draft_for_route(parsed, route, detail.reference, detail.message.received_at, book,
                              today=today or london_today(now()))
    return store.items.change_route(item_id, route, drafted.draft, drafted.meta, drafted.flags, actor,
                                    expected_version, statutory_deadline=drafted.statutory_deadline,
                                    appeal_deadline=drafted.appeal_deadline, adviser_until=drafted.adviser_until)


def reject(store: Store, item_id: int, reason: str, actor: str, expected_version: int | None = None) -> None:
    """Close the item without replying; the reason is required and kept in the event."""
    store.items.reject(item_id, reason, actor, expected_version)


def mark_handled_elsewhere(store: Store, item_id: int, note: str, actor: str,
                           expected_version: int | None = None) -> None:
    """Close the item: it was answered outside this service (by phone, another mailbox...)."""
    store.items.mark_handled_elsewhere(item_id, note, actor, expected_version)
