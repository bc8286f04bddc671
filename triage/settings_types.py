"""The frozen Settings the rest of the service is handed; defaults come from the key declarations.

A field whose default is worked out at load time (an IMAP port from `ssl`, the data directory) keeps
the value that applies when nothing else is set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .settings_keys import default

DEFAULT_DATA_DIR = "var"


@dataclass(frozen=True)
class OAuth2Settings:
    """How one mail server's sign-in gets its OAuth2 access token (`auth = "oauth2"`).

    `section` ("imap" or "smtp") lets every error name the setting to fix. Only the fields of the
    chosen provider are set: tenant, client and secret or certificate for "microsoft", the service
    account file and subject for "google", the command's argv for "command".
    """

    section: str
    provider: str  # "microsoft", "google" or "command"
    mechanism: str = default("imap", "oauth2_mechanism")
    tenant: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    client_secret: str = field(default="", repr=False)
    certificate_file: Path | None = None
    certificate_thumbprint: str = ""
    service_account_file: Path | None = None
    subject: str = ""
    token_command: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImapSettings:
    """One IMAP mailbox (a folder on a server) that the service reads."""

    host: str
    name: str = ""  # how logs, `status` and the database name it; unique among the mailboxes
    port: int = 993  # with ssl; 143 without
    username: str = default("imap", "username")
    password: str = field(default="", repr=False)
    ssl: bool = default("imap", "ssl")
    folder: str = default("imap", "folder")
    keyword: str = default("imap", "keyword")
    timeout_seconds: float = default("imap", "timeout_seconds")
    batch_size: int = default("imap", "batch_size")
    oauth2: OAuth2Settings | None = None  # None: sign in with the password
    idle: bool = default("imap", "idle")
    idle_renew_seconds: int = default("imap", "idle_renew_seconds")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = default("smtp", "port")
    username: str = default("smtp", "username")
    password: str = field(default="", repr=False)
    starttls: bool = True  # unless ssl
    ssl: bool = default("smtp", "ssl")
    timeout_seconds: float = default("smtp", "timeout_seconds")
    oauth2: OAuth2Settings | None = None  # None: log in with the password when a username is set


@dataclass(frozen=True)
class ServiceSettings:
    poll_interval_seconds: int = default("service", "poll_interval_seconds")
    since: dt.date | None = default("service", "since")
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    from_address: str = default("smtp", "from_address")
    from_name: str = default("smtp", "from_name")
    mode: str = default("service", "mode")  # "shadow": classify, draft and log everything, send nothing
    own_addresses: tuple[str, ...] = default("service", "own_addresses")
    routes_file: Path | None = None
    log_format: str = default("service", "log_format")  # "json": one JSON object per line, for a log collector
    max_message_bytes: int = default("service", "max_message_bytes")  # larger: stored as a stub, not read
    backlog_worker: bool = default("service", "backlog_worker")  # a second process for a large poll

    @property
    def shadow(self) -> bool:
        return self.mode == "shadow"

    def is_own_address(self, address: str) -> bool:
        address = address.lower()
        return address == self.from_address.lower() or address in self.own_addresses


@dataclass(frozen=True)
class AcknowledgementSettings:
    enabled: bool = default("acknowledgement", "enabled")
    reply_within_working_days: int = default("acknowledgement", "reply_within_working_days")
    window_hours: int = default("acknowledgement", "window_hours")
    disabled_routes: tuple[str, ...] = default("acknowledgement", "disabled_routes")


@dataclass(frozen=True)
class OutboxSettings:
    directory: Path = Path(default("outbox", "directory"))
    send_interval_seconds: int = default("outbox", "send_interval_seconds")
    max_attempts: int = default("outbox", "max_attempts")
    retry_base_seconds: int = default("outbox", "retry_base_seconds")
    sent_folder: str = default("outbox", "sent_folder")
    stale_sending_minutes: int = default("outbox", "stale_sending_minutes")


@dataclass(frozen=True)
class SafeguardingSettings:
    duty_address: str = default("safeguarding", "duty_address")


@dataclass(frozen=True)
class WebSettings:
    """The caseworkers' web app: where it listens, its sessions and sign-in limits."""

    host: str = default("web", "host")
    port: int = default("web", "port")
    secret_key: str = field(default="", repr=False)  # empty: generated once, kept in the data directory
    session_minutes: int = default("web", "session_minutes")
    session_absolute_hours: int = default("web", "session_absolute_hours")
    secure_cookies: bool = default("web", "secure_cookies")
    threads: int = default("web", "threads")
    page_size: int = default("web", "page_size")
    login_window_minutes: int = default("web", "login_window_minutes")
    login_delay_max_seconds: int = default("web", "login_delay_max_seconds")
    proxy_count: int = default("web", "proxy_count")
    trusted_proxy: str = default("web", "trusted_proxy")


@dataclass(frozen=True)
class ClassifierSettings:
    model_dir: Path | None = None  # None: the model built beside the classifier package
    retrain_cron: str = default("classifier", "retrain_cron")  # empty: never on its own
    retrain_holdout_share: float = default("classifier", "retrain_holdout_share")
    retrain_min_confirmed: int = default("classifier", "retrain_min_confirmed")


@dataclass(frozen=True)
class HealthSettings:
    admin_address: str = default("health", "admin_address")  # empty: problems are only logged
    poll_stale_minutes: int = default("health", "poll_stale_minutes")
    parse_failure_limit: int = default("health", "parse_failure_limit")


@dataclass(frozen=True)
class RetentionSettings:
    """How long personal data is kept (triage.privacy.retention); 0 months: nothing is deleted."""

    closed_months: int = default("retention", "closed_months")
    open_report_months: int = default("retention", "open_report_months")
    cron: str = default("retention", "cron")


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    database_url: str
    classifier: ClassifierSettings
    mailboxes: tuple[ImapSettings, ...] = ()  # empty: read the Maildir instead
    maildir: Path | None = None
    smtp: SmtpSettings | None = None
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    acknowledgement: AcknowledgementSettings = field(default_factory=AcknowledgementSettings)
    safeguarding: SafeguardingSettings = field(default_factory=SafeguardingSettings)
    web: WebSettings | None = None  # None: no [web] section, so `run` serves no web app
    health: HealthSettings = field(default_factory=HealthSettings)
    source_file: Path | None = None
    retention: RetentionSettings = field(default_factory=RetentionSettings)

    def mailbox(self, name: str) -> ImapSettings | None:
        """The IMAP mailbox called `name` (None: not configured, e.g. removed since)."""
        return next((m for m in self.mailboxes if m.name == name), None)

    @property
    def is_embedded_default(self) -> bool:
        return self.source_file is None
