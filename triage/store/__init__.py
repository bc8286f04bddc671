"""The only code that talks to the database. Methods take and return domain values, never ORM rows.

The Store is composed of parts, each a small class over one shared Database (database.py):

    store.folders   where intake stands in each mailbox folder, the per-mailbox poll lock
    store.messages  storing fetched messages (with everything intake made of them), reading them back
    store.attachments  each message's attachments, stored at intake, read back in pieces for a download
    store.items     the queue, one item in full, and the caseworkers' decisions
    store.outbox    emails waiting to be sent, and what became of each attempt
    store.events    recording catalogue events (triage.events), reading them back, the hash chain
    store.accounts  web app users and failed sign-ins
    store.reports   the supervisor's event log, a message's timeline, the dashboard
    store.health    poll outcomes, work counts, health-alert bookkeeping, ping
    store.learning  confirmed routes for retraining
    store.privacy   retention purges, subject access and erasure
    store.safeguarding  the duty alert and the decisions about each safeguarding flag (reads)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from .accounts import Accounts
from .attachments import Attachments, StoredAttachment
from .batch import FolderPosition, Stored
from .database import Database
from .events import Events
from .folders import Folders
from .health import Health, PollStatus, WorkCounts
from .items import Items
from .learning import ConfirmedMessage, Learning
from .messages import DuplicateMessage, Messages
from .outbox import Outbox
from .privacy import Privacy
from .records import ClassificationView, DraftVersion, ItemDetail, MessageView, QueuePage, QueueQuery, QueueRow, User
from .reports import Reports
from .safeguarding import Safeguarding

__all__ = ["Store", "Database", "Stored", "FolderPosition", "DuplicateMessage", "QueueQuery", "QueuePage",
           "QueueRow", "ItemDetail", "MessageView", "ClassificationView", "DraftVersion", "User", "PollStatus",
           "WorkCounts", "ConfirmedMessage", "StoredAttachment"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x45484D47  # "EHMG": PostgreSQL advisory lock key for migrating the schema


class Store:
    """The service's database: messages, classifications, queue items, drafts, outbox, event log and users."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.url = url
        self.folders = Folders(self.db)
        self.messages = Messages(self.db)
        self.attachments = Attachments(self.db)
        self.items = Items(self.db)
        self.outbox = Outbox(self.db)
        self.events = Events(self.db)
        self.accounts = Accounts(self.db)
        self.reports = Reports(self.db)
        self.health = Health(self.db)
        self.learning = Learning(self.db)
        self.privacy = Privacy(self.db)
        self.safeguarding = Safeguarding(self.db)

    @property
    def engine(self):  # noqa: ANN201 - the SQLAlchemy Engine (tests and tools that inspect the database)
        return self.db.engine

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.db.engine.begin() as connection:
            if self.db.dialect == "postgresql":  # two workers starting at once: one migrates
                connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.db.close()
