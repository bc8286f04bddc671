"""Wire the service's parts from Settings: the store, the classifier, the route facts, the source, the sender."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Callable

import classifier
from replies import DEFAULT_ROUTES_FILE, RouteBook, load_routes

from . import decisions
from .domain import OutboxEntry, OutboxKind
from .intake import MailSource, open_sources, record_reply
from .outbox import FileTransport, SendReport, SmtpTransport, Transport, send_due
from .pipeline import Triage
from .private_files import private_dir
from .settings import DEMO_MAILDIR, Settings
from .store import Store

log = logging.getLogger("triage.service")


def open_store(settings: Settings) -> Store:
    """The database, migrated to the newest schema (the data directory made private first)."""
    private_dir(settings.service.data_dir)
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
    demo Maildir. Each fetches no more than the head of a message over [service] max_message_bytes."""
    if settings.is_embedded_default and settings.maildir is not None and not settings.maildir.exists():
        install_demo_maildir(settings.maildir)
    return open_sources(settings.mailboxes, settings.maildir, settings.service.max_message_bytes)


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
        if OutboxKind(entry.kind) is not OutboxKind.REPLY or entry.message_ref is None:
            return
        origin = store.messages.message_origin(entry.message_ref)
        mailbox = settings.mailbox(origin.source)
        if mailbox is None:  # the mailbox it came from is no longer configured: nowhere to file the copy
            log.warning("reply %s sent; its mailbox %s is no longer configured, so no copy was filed", entry.id,
                        origin.source)
            return
        record_reply(mailbox, settings.outbox.sent_folder, origin.folder, origin.uidvalidity, origin.uid, entry.raw)

    return after


def approve_item(settings: Settings, store: Store, item_id: int, actor: str,
                 expected_version: int | None = None, draft_version: int | None = None,
                 today: dt.date | None = None, confirm_deadlines: bool = False) -> int:
    """Approve an item's current draft with the configured sender (triage.decisions.approve: one
    transaction, the reply composed from what the store holds; the send job sends it)."""
    return decisions.approve(store, settings.service, item_id, actor, expected_version, draft_version, today,
                             confirm_deadlines)


# Kept importable from here: re-drafting is a decision (triage.decisions).
change_route = decisions.change_route
