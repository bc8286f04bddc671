"""Wire the service's parts from Settings: the store, the classifier, the route facts, the source, the sender."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Callable

import classifier
from replies import DEFAULT_ROUTES_FILE, Draft, RouteBook, load_routes
from replies.deadlines import changed_since_drafted, judge
from replies.drafting import london_today
from replies.facts import placeholder_line

from .composing import compose
from .domain import OutboxKind
from .errors import Conflict, InvalidAction
from .intake import MailSource, open_sources, record_reply
from .outbox import FileTransport, SendReport, SmtpTransport, Transport, send_due
from .parsing import parse_message
from .pipeline import Triage, draft_for_route
from .settings import DEMO_MAILDIR, ROUTES, Settings
from .store import OutboxEntry, Store, now

log = logging.getLogger("triage.service")


def open_store(settings: Settings) -> Store:
    """The database, migrated to the newest schema."""
    store = Store(settings.database_url)
    store.migrate()
    return store


def route_book(settings: Settings) -> RouteBook:
    return load_routes(settings.service.routes_file or DEFAULT_ROUTES_FILE)


def build_triage(settings: Settings, store: Store) -> Triage:
    """Everything poll_once needs besides the mail source; loads (or first builds) the model."""
    model = classifier.load_or_train(settings.classifier.model_dir)
    return Triage(store=store, classifier=model, book=route_book(settings), service=settings.service,
                  acknowledgement=settings.acknowledgement, safeguarding=settings.safeguarding)


def mail_sources(settings: Settings) -> list[MailSource]:
    """The configured sources, one per mailbox; on the embedded default, a private copy of the bundled
    demo Maildir."""
    if settings.is_embedded_default and settings.maildir is not None and not settings.maildir.exists():
        install_demo_maildir(settings.maildir)
    return open_sources(settings.mailboxes, settings.maildir)


def install_demo_maildir(target: Path) -> None:
    """Copy the bundled sample mailbox so the demo never changes files in the repository."""
    shutil.copytree(DEMO_MAILDIR, target, ignore=shutil.ignore_patterns(".keep"))
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(exist_ok=True)


def transport(settings: Settings) -> Transport:
    """SMTP when configured, else .eml files in the outbox directory."""
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    return FileTransport(settings.outbox.directory)


def send_outbox(settings: Settings, store: Store) -> SendReport:
    """Send what is due (nothing at all in shadow mode: its rows are 'would_send')."""
    return send_due(store, transport(settings), settings.outbox, settings.service.from_address,
                    after_sent=_after_sent(settings, store), hold_placeholders=settings.smtp is not None)


def _after_sent(settings: Settings, store: Store) -> Callable[[OutboxEntry], None] | None:
    if not settings.mailboxes:
        return None

    def after(entry: OutboxEntry) -> None:
        if entry.kind != OutboxKind.REPLY.value or entry.message_ref is None:
            return
        origin = store.message_origin(entry.message_ref)
        mailbox = settings.mailbox(origin.source)
        if mailbox is None:  # the mailbox it came from is no longer configured: nowhere to file the copy
            log.warning("reply %s sent; its mailbox %s is no longer configured, so no copy was filed", entry.id,
                        origin.source)
            return
        record_reply(mailbox, settings.outbox.sent_folder, origin.folder, origin.uidvalidity, origin.uid, entry.raw)

    return after


def approve_item(settings: Settings, store: Store, item_id: int, actor: str,
                 expected_version: int | None = None, draft_version: int | None = None,
                 today: dt.date | None = None, confirm_deadlines: bool = False) -> None:
    """Approve an item's current draft: the reply goes to the outbox, threaded to the original.

    Nothing is sent here: the send job (or `outbox send`) does the SMTP work. With `expected_version`
    (the web form's item version) or `draft_version` (the draft the caseworker saw or saved), a change
    made by someone else in the meantime is refused as Conflict.

    A draft with a placeholder left (the council's or the caseworker's) is refused. So is one whose
    deadlines, judged again on `today` (England's date; default: now), have passed or changed since
    it was written, unless the caseworker re-drafts it or approves with `confirm_deadlines`.
    """
    draft = store.latest_draft(item_id)
    if draft_version is not None and draft.version != draft_version:
        raise Conflict(f"item {item_id}'s draft was changed by someone else (now version {draft.version}, by "
                       f"{draft.author}) after you opened it")
    line = placeholder_line(draft.text)
    if line:
        raise InvalidAction(f"item {item_id} cannot be approved: its draft still has a placeholder to fill in "
                            f"({line[:120]}); write that part of the reply, or fill in the route facts (see "
                            f"`ehc-triage check-config`)")
    stale = changed_since_drafted(draft.meta, judge(draft.meta, today or london_today(now())))
    if stale and not confirm_deadlines:
        raise InvalidAction(f"item {item_id} cannot be approved: {stale}; re-draft it with today's dates, or "
                            f"confirm you have checked the deadlines in the draft")
    original = parse_message(store.item_raw(item_id))
    address = original.reply_to or original.from_address
    if not address:
        raise InvalidAction(f"item {item_id} cannot be approved: the message has no sender address to reply to")
    if not address.isascii():
        raise InvalidAction(f"item {item_id} cannot be approved: the sender's address {address!r} is not plain ASCII "
                            f"(it needs SMTPUTF8, which the service does not send); reply from a mail client and "
                            f"mark the item handled elsewhere")
    reply = compose(OutboxKind.REPLY, Draft(draft.subject, draft.text, draft.html), address, original.from_name,
                    settings.service.from_address, settings.service.from_name, reply_to=original)
    store.approve(item_id, reply, actor, shadow=settings.service.shadow, expected_version=expected_version,
                  draft_version=draft.version, extra={"deadlines_confirmed": stale} if stale else None)


def change_route(store: Store, book: RouteBook, item_id: int, route: str, actor: str,
                 expected_version: int | None = None, today: dt.date | None = None) -> int:
    """Give an item another route (or the same one: a re-draft): its draft is rendered again from that
    route's template with the deadlines judged on `today` (earlier versions are kept); returns the new
    draft's version."""
    if route not in ROUTES:
        raise InvalidAction(f"unknown route {route!r}; choose one of {', '.join(ROUTES)}")
    detail = store.item_detail(item_id)
    parsed = parse_message(store.item_raw(item_id))
    drafted = draft_for_route(parsed, route, detail.reference, detail.message.received_at, book,
                              today=today or london_today(now()))
    return store.change_route(item_id, route, drafted.draft, drafted.meta, drafted.flags, actor, expected_version,
                              statutory_deadline=drafted.statutory_deadline)
