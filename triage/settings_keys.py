"""Every settings key, declared once: its section, name, kind, default and one line of help.

These declarations drive everything else about a key: loading checks its type and fills its default
(settings_reading), the unknown-section and unknown-key errors come from them, and the example file
and README's key table are printed from them (settings_docs). A key added here is documented and
checked everywhere; a key not here is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

NO_EXAMPLE = object()  # Key.example: show the default


@dataclass(frozen=True)
class Key:
    """One key of a TOML section.

    kind: "str", "int", "float", "bool", "strings" (a list), "date", "path" (relative to the file) or
    "env" (names an environment variable that holds a secret). A default of None means "not set" or
    "worked out at load time", which `default_doc` then explains to the reader.
    """

    name: str
    kind: str
    default: Any
    help: str
    example: Any = NO_EXAMPLE  # the value the example file shows
    commented: bool = False  # the example file shows the key commented out
    required: bool = False
    minimum: int | None = None  # ints
    between: tuple[float, float] | None = None  # floats, both ends excluded
    choices: tuple[str, ...] = ()
    provider: str = ""  # the oauth2_provider this key belongs to
    default_doc: str = ""  # README's default cell (Markdown) where the default is worked out


@dataclass(frozen=True)
class Section:
    """A TOML section and its keys; `takes` names a section whose keys its tables take as well."""

    name: str
    keys: tuple[Key, ...]
    help: str = ""
    refused: tuple[str, ...] = ()  # accepted as names only to be refused with a better message
    takes: str = ""
    array: bool = False  # written as [[name]] tables
    commented: bool = False  # the example file shows the whole section commented out
    shared_help: str = ""  # the help for keys this section shares with an earlier one
    example_tail: tuple[str, ...] = ()  # further example lines after the keys


_SECRET_NOTE = "(secrets never go in the file)"

AUTH_KEYS = (
    Key("auth", "str", "password", '`"oauth2"`: sign in with an OAuth2 token (XOAUTH2 or OAUTHBEARER) instead of '
        "a password; then drop `password_env` and set `oauth2_provider` (see docs/operating.md)",
        choices=("password", "oauth2")),
    Key("oauth2_provider", "str", None, 'where tokens come from: `"microsoft"` (Microsoft 365, client credentials), '
        '`"google"` (service account) or `"command"`', example="microsoft", commented=True,
        choices=("microsoft", "google", "command"), default_doc="(required with `oauth2`)"),
    Key("oauth2_mechanism", "str", "xoauth2", '`"oauthbearer"` (RFC 7628) where the server offers it',
        commented=True, choices=("xoauth2", "oauthbearer")),
    Key("oauth2_tenant", "str", None, "`microsoft`: the Microsoft Entra directory (tenant) ID or domain",
        example="brackenford.example.gov.uk", commented=True, provider="microsoft",
        default_doc="(required for `microsoft`)"),
    Key("oauth2_client_id", "str", None, "`microsoft`: the app registration's application (client) ID",
        example="00000000-0000-4000-8000-000000000001", commented=True, provider="microsoft",
        default_doc="(required for `microsoft`)"),
    Key("oauth2_client_secret_env", "env", None, "`microsoft`: environment variable holding the client secret "
        "(or use a certificate)", example="EHC_OAUTH2_CLIENT_SECRET", commented=True, provider="microsoft"),
    Key("oauth2_certificate_file", "path", None, "`microsoft`: the app certificate's private key (PEM), instead "
        "of a secret", example="/etc/ehc-triage/ehc-triage.pem", commented=True, provider="microsoft"),
    Key("oauth2_certificate_thumbprint", "str", None, "`microsoft`: the certificate's SHA-1 thumbprint (hex)",
        example="A1B2C3D4E5F60718293A4B5C6D7E8F9012345678", commented=True, provider="microsoft",
        default_doc="(required with a certificate)"),
    Key("oauth2_service_account_file", "path", None, "`google`: the service account's JSON key file (domain-wide "
        "delegation)", example="/etc/ehc-triage/google-service-account.json", commented=True, provider="google",
        default_doc="(required for `google`)"),
    Key("oauth2_subject", "str", None, "`google`: the mailbox the service account acts as",
        example="ehc.assessment@brackenford.example.gov.uk", commented=True, provider="google",
        default_doc="`username`"),
    Key("oauth2_token_command", "str", None, "`command`: a command (run without a shell) printing the token, or "
        'JSON `{"access_token": ..., "expires_in": seconds}`',
        example="/usr/local/bin/ehc-mail-token --mailbox ehc.assessment", commented=True, provider="command",
        default_doc="(required for `command`)"),
)

_TEAM = "ehc.assessment@brackenford.example.gov.uk"

IMAP = Section("imap", help="The IMAP mailbox the service reads.", refused=("password",), keys=(
    Key("host", "str", None, "IMAP server", example="outlook.office365.com", required=True),
    Key("port", "int", None, "IMAP port", example=993, default_doc="`993`, or `143` without ssl"),
    Key("username", "str", "", "login name", example=_TEAM),
    Key("password_env", "env", None, f"the environment variable holding the password {_SECRET_NOTE}",
        example="EHC_IMAP_PASSWORD"),
    *AUTH_KEYS,
    Key("ssl", "bool", True, "implicit TLS (IMAPS)"),
    Key("folder", "str", "INBOX", "the folder to read"),
    Key("keyword", "str", "$EHCTriaged", "IMAP keyword set on a message once it is safely stored"),
    Key("timeout_seconds", "float", 30.0, "socket timeout for the IMAP connection"),
    Key("batch_size", "int", 50, "messages fetched per round trip", minimum=1),
    Key("idle", "bool", True, "wait for new mail with IMAP IDLE (RFC 2177) on an extra connection, where the "
        "server offers it, and poll at once when it arrives; the scheduled poll stays as a safety net; "
        "`false`: poll only"),
    Key("idle_renew_seconds", "int", 1500, "end and re-issue IDLE this often (at most 1680: servers may drop a "
        "client that idles for 29 minutes)", minimum=1),
))

MAILBOX = Section(
    "mailbox", takes="imap", array=True, commented=True,
    help="several mailboxes or folders in one service: one table each, taking every `[imap]` key; `[imap]` then "
         "holds what they share (each table's own keys win) and is not read on its own. Each is polled, backed "
         "off and health-checked on its own, so one failing mailbox never stops the others",
    keys=(Key("name", "str", None, "the mailbox's name in logs, `status`, `/healthz` and the database; keep it "
              "once chosen (a renamed mailbox is read again from the start, its known messages skipped as "
              "duplicates)", example="ehc-inbox", default_doc="(required in each `[[mailbox]]`)"),),
    example_tail=('folder = "INBOX"', "", "[[mailbox]]", 'name = "send-tribunal"',
                  'username = "send.tribunal@brackenford.example.gov.uk"',
                  'password_env = "EHC_TRIBUNAL_IMAP_PASSWORD"'),
)

MAILDIR = Section("maildir", commented=True, help="Instead of IMAP: read a local Maildir.", keys=(
    Key("path", "path", None, "read this local Maildir instead of IMAP", example="/var/mail/ehc", required=True),
))

SMTP = Section(
    "smtp", refused=("password",), help="Outgoing mail. Without this section mail is written as files (see [outbox]).",
    shared_help="OAuth2 sign-in to the SMTP server, set apart from IMAP's; with `auth = \"oauth2\"`, `username` is "
                "the mailbox that signs in (a microsoft app then needs SMTP.SendAsApp as well as IMAP.AccessAsApp)",
    keys=(
        Key("host", "str", None, "SMTP server for outgoing mail", example="smtp.office365.com", required=True,
            default_doc="(required when `[smtp]` is present)"),
        Key("port", "int", 587, "SMTP port"),
        Key("username", "str", "", "login name", example=_TEAM),
        Key("password_env", "env", None, f"the environment variable holding the SMTP password {_SECRET_NOTE}",
            example="EHC_SMTP_PASSWORD"),
        *AUTH_KEYS,
        Key("starttls", "bool", None, "upgrade with STARTTLS", example=True, default_doc="`true` unless `ssl`"),
        Key("ssl", "bool", False, "implicit TLS (SMTPS, usually port 465)"),
        Key("from_address", "str", _TEAM, "our address (replies come from it)"),
        Key("from_name", "str", "EHC Assessment Team", "display name"),
        Key("timeout_seconds", "float", 30.0, "socket timeout for the SMTP connection"),
    ))

DATABASE = Section("database", keys=(
    Key("url", "str", None, "SQLAlchemy URL; SQLite for one worker, `postgresql+psycopg://user@host/db` for several "
        "(docs/operating.md)", example="sqlite:////var/lib/ehc-triage/triage.db",
        default_doc="`sqlite:///<data_dir>/triage.db`"),
))

SERVICE = Section("service", keys=(
    Key("poll_interval_seconds", "int", 60, "how often `run` polls", minimum=1),
    Key("since", "date", None, "ISO date; older mail is recorded but never acknowledged or drafted",
        example=dt.date(2026, 9, 1)),
    Key("data_dir", "path", None, "database, demo mailbox, outbox files", example="/var/lib/ehc-triage",
        default_doc="`var` (beside the settings file; else `$EHC_TRIAGE_DATA`, else `./var`)"),
    Key("mode", "str", "live", '`"shadow"`: classify, draft and log everything, but send nothing (rows are '
        "`would_send`)", choices=("live", "shadow")),
    Key("own_addresses", "strings", (), "more of our own addresses, never acknowledged (besides `[smtp] "
        "from_address`)", example=("ehc.noreply@brackenford.example.gov.uk",)),
    Key("routes_file", "path", None, "the council's route facts", example="/etc/ehc-triage/routes.toml",
        default_doc="`config/routes.toml`"),
    Key("log_format", "str", "text", '`"json"`: one JSON object per line (`at`, `level`, `logger`, `message`, '
        "`exception`); email addresses are masked in either format", example="json", choices=("text", "json")),
    Key("max_message_bytes", "int", 25_000_000, "a larger message is not read: it is stored as a stub (its headers "
        "and first 64 KB, `parse_error` saying why) for review in the mail client, never dropped", minimum=65_536),
    Key("backlog_worker", "bool", True, "a poll that finds 1,000 messages or more parses and classifies them in a "
        "second process while this one drafts and stores (only with two or more CPUs; about 200 MB more memory "
        "while it runs)"),
))

OUTBOX = Section("outbox", keys=(
    Key("directory", "path", "outbox", "where outgoing mail is written as files when `[smtp]` is absent",
        default_doc='`"outbox"` in the data directory'),
    Key("send_interval_seconds", "int", 30, "how often `run` sends what is due", minimum=1),
    Key("max_attempts", "int", 5, "attempts before a row is marked `failed` (see `outbox list`)", minimum=1),
    Key("retry_base_seconds", "int", 60, "first retry delay; doubles each attempt", minimum=1),
    Key("sent_folder", "str", "Sent", "IMAP folder that keeps a copy of each approved reply"),
    Key("stale_sending_minutes", "int", 10, "a row still `sending` after this (a crash mid-send) is failed for a "
        "person to check", minimum=1),
))

ACKNOWLEDGEMENT = Section("acknowledgement", keys=(
    Key("enabled", "bool", True, "automatic acknowledgements on or off"),
    Key("reply_within_working_days", "int", 10, "the reply-by date the acknowledgement promises (England and "
        "Wales working days)", minimum=1),
    Key("window_hours", "int", 24, "at most one acknowledgement per sender in this window (`0`: no limit)",
        minimum=0),
    Key("disabled_routes", "strings", (), 'routes whose messages get no acknowledgement, e.g. `["other"]`'),
))

SAFEGUARDING = Section("safeguarding", keys=(
    Key("duty_address", "str", "", "where safeguarding alerts go at once (no personal data in them)",
        example="duty.safeguarding@brackenford.example.gov.uk"),
))

HEALTH = Section("health", keys=(
    Key("admin_address", "str", "", "where health alerts go (at most one per problem per hour; each is a "
        "`health_alert` event); empty: problems are only logged", example="triage.admin@brackenford.example.gov.uk"),
    Key("poll_stale_minutes", "int", 30, "a mailbox with no successful poll for this long is unhealthy (`status`, "
        "`/healthz`, alert)", minimum=1),
    Key("parse_failure_limit", "int", 10, "this many unparseable messages stored within an hour is unhealthy",
        minimum=1),
))

CLASSIFIER = Section("classifier", keys=(
    Key("model_dir", "path", None, "the saved model versions (`versions/<version>/`: files and card) and the "
        "`CURRENT` pointer", example="/var/lib/ehc-triage/model", default_doc="`classifier/model`"),
    Key("retrain_cron", "str", "", 'a crontab expression (UTC, e.g. `"0 2 * * 0"`) on which `run` retrains with '
        "the promotion gate; empty: retrain only by `ehc-triage retrain`"),
    Key("retrain_holdout_share", "float", 0.2, "the newest share of confirmed labels kept back to test candidate "
        "and current model on", between=(0.0, 1.0)),
    Key("retrain_min_confirmed", "int", 50, "confirmed labels needed before a retrain runs", minimum=2),
))

WEB = Section("web", help="The caseworkers' web app; with this section, even empty, `run` serves it too.", keys=(
    Key("host", "str", "127.0.0.1", "address the web app listens on, behind a reverse proxy that terminates TLS "
        "(`web --host` overrides it)"),
    Key("port", "int", 8000, "port the web app listens on (`web --port` overrides it)", minimum=0),
    Key("secret_key_env", "env", None, "environment variable holding the session signing key (at least 32 "
        "characters); without it a key is generated once into `web-secret-key` (mode 0600) in the data directory",
        example="EHC_WEB_SECRET_KEY", commented=True),
    Key("session_minutes", "int", 60, "a session ends after this long without activity", minimum=1),
    Key("session_absolute_hours", "int", 12, "a session ends this long after signing in, however active",
        minimum=1),
    Key("secure_cookies", "bool", True, "mark the session cookie `Secure` (HTTPS only); `false` only for plain "
        "HTTP on loopback"),
    Key("threads", "int", 8, "waitress worker threads", minimum=1),
    Key("page_size", "int", 50, "queue rows per page", minimum=5),
    Key("login_window_minutes", "int", 60, "failed sign-ins are remembered this long: after each one, that "
        "address (and that account, from an address that failed on it) waits 1 s, 2 s, 4 s ... before trying again",
        minimum=1),
    Key("login_delay_max_seconds", "int", 300, "the longest wait between sign-in attempts after failures",
        minimum=1),
    Key("proxy_count", "int", 0, "reverse proxies in front that append to `X-Forwarded-For`/`-Proto`; their "
        "client address is the one sign-in delays and the event log use", example=1, minimum=0),
    Key("trusted_proxy", "str", "127.0.0.1", "the address the nearest reverse proxy connects from; "
        "`X-Forwarded-*` headers from any other address are dropped"),
))

RETENTION = Section(
    "retention",
    help="How long personal data is kept (UK GDPR storage limitation; docs/privacy.md). Take the period from the "
         "council's retention schedule, not from this file. Consider: this inbox copy is not the case record (the EHC "
         "case file keeps what must be kept); complaint files are often kept 6 years after closure and some EHC "
         "records until the child is 45; a parent may come back within the two months allowed for mediation or an "
         "appeal; and a subject access request can only be answered from what is still held.",
    keys=(
        Key("closed_months", "int", 0, "months after an item is closed (sent, rejected, handled elsewhere) when its "
            "message text, attachments, drafts, replies and the personal fields of its events are deleted (recorded-"
            "only messages: after receipt); `0`: nothing is deleted", example=24, minimum=0),
        Key("open_report_months", "int", 12, "items never closed whose message is older than this are reported by "
            "`retention run` and the retention job, never deleted", minimum=1),
        Key("cron", "str", "30 3 * * *", "when `run` applies retention (crontab, UTC); empty: only by "
            "`ehc-triage retention run`"),
    ))

SECTIONS = (IMAP, MAILBOX, MAILDIR, SMTP, DATABASE, SERVICE, OUTBOX, ACKNOWLEDGEMENT, SAFEGUARDING, HEALTH,
            CLASSIFIER, WEB, RETENTION)
SECTION = {section.name: section for section in SECTIONS}


def keys_of(section: Section) -> tuple[Key, ...]:
    """A section's keys, with those of the section its tables take ([[mailbox]] takes [imap]'s)."""
    return (SECTION[section.takes].keys if section.takes else ()) + section.keys


def known_keys(section: Section) -> set[str]:
    """Every key name a table of the section may hold, refused ones included."""
    taken = known_keys(SECTION[section.takes]) if section.takes else set()
    return taken | {key.name for key in section.keys} | set(section.refused)


def key(section: str, name: str) -> Key:
    return next(k for k in SECTION[section].keys if k.name == name)


def default(section: str, name: str) -> Any:
    """A key's declared default, for the Settings dataclasses' own defaults."""
    return key(section, name).default
