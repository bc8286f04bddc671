"""Wire the service's parts from Settings: the store, the classifier, the route facts, the source."""

from __future__ import annotations

import shutil
from pathlib import Path

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes

from .intake import MailSource, open_source
from .pipeline import Triage
from .settings import DEMO_MAILDIR, Settings
from .store import Store


def open_store(settings: Settings) -> Store:
    """The database, migrated to the newest schema."""
    store = Store(settings.database_url)
    store.migrate()
    return store


def build_triage(settings: Settings, store: Store) -> Triage:
    """Everything poll_once needs besides the mail source; loads (or first builds) the model."""
    model = classifier.load_or_train(settings.classifier.model_dir)
    return Triage(store=store, classifier=model, book=load_routes(DEFAULT_ROUTES_FILE),
                  since=settings.service.since,
                  batch_size=settings.imap.batch_size if settings.imap else 50)


def mail_source(settings: Settings) -> MailSource:
    """The configured source; on the embedded default, a private copy of the bundled demo Maildir."""
    if settings.is_embedded_default and settings.maildir is not None and not settings.maildir.exists():
        install_demo_maildir(settings.maildir)
    return open_source(settings.imap, settings.maildir)


def install_demo_maildir(target: Path) -> None:
    """Copy the bundled sample mailbox so the demo never changes files in the repository."""
    shutil.copytree(DEMO_MAILDIR, target, ignore=shutil.ignore_patterns(".keep"))
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(exist_ok=True)
