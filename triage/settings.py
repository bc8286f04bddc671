"""Read the TOML settings file and the environment variables it names, once, into frozen Settings.

This is the only module that reads the environment. Everything else is handed a Settings.
With no file at all the service runs on its embedded default: the bundled demo Maildir,
a SQLite database and outgoing mail written as files, all under the data directory.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from apscheduler.triggers.cron import CronTrigger

from .errors import ConfigError

CONFIG_ENV = "EHC_TRIAGE_CONFIG"
DATA_ENV = "EHC_TRIAGE_DATA"
DEFAULT_DATA_DIR = "var"
DEMO_MAILDIR = Path(__file__).parent / "demo" / "maildir"


@dataclass(frozen=True)
class OAuth2Settings:
    """How one mail server's sign-in gets its OAuth2 access token (`auth = "oauth2"`).

    `section` ("imap" or "smtp") lets every error name the setting to fix. Only the fields of the
    chosen provider are set: tenant, client and secret or certificate for "microsoft", the service
    account file and subject for "google", the command's argv for "command".
    """

    section: str
    provider: str  # "microsoft", "google" or "command"
    mechanism: str = "xoauth2"  # or "oauthbearer"
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
    port: int = 993
    username: str = ""
    password: str = field(default="", repr=False)
    ssl: bool = True
    folder: str = "INBOX"
    keyword: str = "$EHCTriaged"
    timeout_seconds: float = 30.0
    batch_size: int = 50
    oauth2: OAuth2Settings | None = None  # None: sign in with the password
    idle: bool = True  # wait for new mail with IMAP IDLE when the server offers it (the poll stays as a net)
    idle_renew_seconds: int = 1500  # end and re-issue IDLE this often (RFC 2177: before 29 minutes)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = 30.0
    oauth2: OAuth2Settings | None = None  # None: log in with the password when a username is set


@dataclass(frozen=True)
class ServiceSettings:
    poll_interval_seconds: int = 60
    since: dt.date | None = None
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    from_address: str = "ehc.assessment@brackenford.example.gov.uk"
    from_name: str = "EHC Assessment Team"
    mode: str = "live"  # "shadow": classify, draft and log everything, send nothing
    own_addresses: tuple[str, ...] = ()
    routes_file: Path | None = None
    log_format: str = "text"  # "json": one JSON object per line, for a log collector

    @property
    def shadow(self) -> bool:
        return self.mode == "shadow"

    def is_own_address(self, address: str) -> bool:
        address = address.lower()
        return address == self.from_address.lower() or address in self.own_addresses


@dataclass(frozen=True)
class AcknowledgementSettings:
    enabled: bool = True
    reply_within_working_days: int = 10
    window_hours: int = 24
    disabled_routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxSettings:
    directory: Path = Path("outbox")
    send_interval_seconds: int = 30
    max_attempts: int = 5
    retry_base_seconds: int = 60
    sent_folder: str = "Sent"
    stale_sending_minutes: int = 10


@dataclass(frozen=True)
class SafeguardingSettings:
    duty_address: str = ""


@dataclass(frozen=True)
class WebSettings:
    """The caseworkers' web app: where it listens, its sessions and sign-in limits."""

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default="", repr=False)  # empty: generated once, kept in the data directory
    session_minutes: int = 60
    secure_cookies: bool = True
    threads: int = 8
    page_size: int = 50
    login_attempts: int = 5
    login_window_minutes: int = 15
    proxy_count: int = 0


@dataclass(frozen=True)
class ClassifierSettings:
    model_dir: Path | None = None  # None: the model built beside the classifier package
    retrain_cron: str = ""  # crontab expression (UTC) for scheduled retraining; empty: never on its own
    retrain_holdout_share: float = 0.2  # the newest confirmed labels kept back to test on
    retrain_min_confirmed: int = 50


@dataclass(frozen=True)
class HealthSettings:
    admin_address: str = ""  # where health alerts go; empty: problems are only logged
    poll_stale_minutes: int = 30  # a mailbox without a successful poll for this long is unhealthy
    parse_failure_limit: int = 10  # this many unparseable messages within an hour is unhealthy


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

    def mailbox(self, name: str) -> ImapSettings | None:
        """The IMAP mailbox called `name` (None: not configured, e.g. removed since)."""
        return next((m for m in self.mailboxes if m.name == name), None)

    @property
    def is_embedded_default(self) -> bool:
        return self.source_file is None


_OAUTH2_COMMON_KEYS = {"oauth2_provider", "oauth2_mechanism"}
_OAUTH2_PROVIDER_KEYS = {
    "microsoft": {"oauth2_tenant", "oauth2_client_id", "oauth2_client_secret_env", "oauth2_certificate_file",
                  "oauth2_certificate_thumbprint"},
    "google": {"oauth2_service_account_file", "oauth2_subject"},
    "command": {"oauth2_token_command"},
}
_AUTH_KEYS = {"auth"} | _OAUTH2_COMMON_KEYS | set().union(*_OAUTH2_PROVIDER_KEYS.values())
_IMAP_KEYS = {"host", "port", "username", "password", "password_env", "ssl", "folder", "keyword", "timeout_seconds",
              "batch_size", "idle", "idle_renew_seconds"} | _AUTH_KEYS
_IDLE_RENEW_LIMIT = 29 * 60 - 60  # RFC 2177: a server may log a client out after 29 minutes of IDLE
_KNOWN = {
    "imap": _IMAP_KEYS,
    "mailbox": _IMAP_KEYS | {"name"},
    "smtp": {"host", "port", "username", "password", "password_env", "starttls", "ssl", "from_address", "from_name",
             "timeout_seconds"} | _AUTH_KEYS,
    "database": {"url"},
    "service": {"poll_interval_seconds", "since", "data_dir", "mode", "own_addresses", "routes_file", "log_format"},
    "maildir": {"path"},
    "outbox": {"directory", "send_interval_seconds", "max_attempts", "retry_base_seconds", "sent_folder",
               "stale_sending_minutes"},
    "acknowledgement": {"enabled", "reply_within_working_days", "window_hours", "disabled_routes"},
    "safeguarding": {"duty_address"},
    "health": {"admin_address", "poll_stale_minutes", "parse_failure_limit"},
    "classifier": {"model_dir", "retrain_cron", "retrain_holdout_share", "retrain_min_confirmed"},
    "web": {"host", "port", "secret_key_env", "session_minutes", "secure_cookies", "threads", "page_size",
            "login_attempts", "login_window_minutes", "proxy_count"},
}
ROUTES = ("disagreement_resolution", "mediation", "tribunal", "other")


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from PATH (or $EHC_TRIAGE_CONFIG); with neither, the embedded default."""
    env = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV):
        path = env[CONFIG_ENV]
    if path is None:
        return _build({}, base=Path.cwd(), env=env, source_file=None)
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
    return _build(raw, base=file.resolve().parent, env=env, source_file=file)


def _build(raw: dict[str, Any], base: Path, env: Mapping[str, str], source_file: Path | None) -> Settings:
    for section, value in raw.items():
        if section not in _KNOWN:
            raise ConfigError(f"unknown config section [{section}]; known: {', '.join(sorted(_KNOWN))}")
        if section == "mailbox" and not (isinstance(value, list) and all(isinstance(t, dict) for t in value)):
            raise ConfigError("mailbox must be written as [[mailbox]] tables, one per mailbox or folder")
        for table in value if section == "mailbox" else [value]:
            unknown = set(table) - _KNOWN[section]
            if unknown:
                raise ConfigError(f"unknown key(s) in [{section}]: {', '.join(sorted(unknown))}")

    svc = raw.get("service", {})
    data_dir = _path(svc.get("data_dir") or env.get(DATA_ENV) or DEFAULT_DATA_DIR, base)
    smtp_raw = raw.get("smtp")
    mode = svc.get("mode", "live")
    if mode not in ("live", "shadow"):
        raise ConfigError(f'[service] mode must be "live" or "shadow", got {mode!r}')
    log_format = svc.get("log_format", "text")
    if log_format not in ("text", "json"):
        raise ConfigError(f'[service] log_format must be "text" or "json", got {log_format!r}')
    service = ServiceSettings(
        poll_interval_seconds=_int(svc, "service", "poll_interval_seconds", 60, minimum=1),
        since=_date(svc.get("since")),
        data_dir=data_dir,
        from_address=(smtp_raw or {}).get("from_address", ServiceSettings.from_address),
        from_name=(smtp_raw or {}).get("from_name", ServiceSettings.from_name),
        mode=mode,
        own_addresses=tuple(a.lower() for a in _strings(svc, "service", "own_addresses")),
        routes_file=_path(svc["routes_file"], base) if svc.get("routes_file") else None,
        log_format=log_format,
    )
    db_url = raw.get("database", {}).get("url") or f"sqlite:///{data_dir / 'triage.db'}"

    mailboxes = _mailboxes(raw, env, base)
    maildir = None
    if "maildir" in raw:
        maildir = _path(_required(raw["maildir"], "maildir", "path"), base)
    if mailboxes and maildir is not None:
        raise ConfigError("configure either IMAP ([imap] or [[mailbox]]) or [maildir], not both")
    if not mailboxes and maildir is None:
        maildir = data_dir / "demo-maildir"

    smtp = None
    if smtp_raw is not None:
        smtp_oauth2 = _oauth2(smtp_raw, "smtp", env, base)
        smtp = SmtpSettings(
            host=_required(smtp_raw, "smtp", "host"),
            port=_int(smtp_raw, "smtp", "port", 587),
            username=smtp_raw.get("username", ""),
            password=_secret(smtp_raw, "smtp", env),
            starttls=_bool(smtp_raw, "smtp", "starttls", not smtp_raw.get("ssl", False)),
            ssl=_bool(smtp_raw, "smtp", "ssl", False),
            timeout_seconds=float(smtp_raw.get("timeout_seconds", 30.0)),
            oauth2=smtp_oauth2,
        )
        if smtp.ssl and smtp.starttls:
            raise ConfigError("[smtp] ssl and starttls cannot both be true")
    o = raw.get("outbox", {})
    outbox = OutboxSettings(
        directory=_path(o.get("directory") or "outbox", data_dir),
        send_interval_seconds=_int(o, "outbox", "send_interval_seconds", 30, minimum=1),
        max_attempts=_int(o, "outbox", "max_attempts", 5, minimum=1),
        retry_base_seconds=_int(o, "outbox", "retry_base_seconds", 60, minimum=1),
        sent_folder=o.get("sent_folder", "Sent"),
        stale_sending_minutes=_int(o, "outbox", "stale_sending_minutes", 10, minimum=1),
    )
    a = raw.get("acknowledgement", {})
    disabled = _strings(a, "acknowledgement", "disabled_routes")
    unknown_routes = set(disabled) - set(ROUTES)
    if unknown_routes:
        raise ConfigError(f"[acknowledgement] disabled_routes has unknown route(s): {', '.join(sorted(unknown_routes))}")
    acknowledgement = AcknowledgementSettings(
        enabled=_bool(a, "acknowledgement", "enabled", True),
        reply_within_working_days=_int(a, "acknowledgement", "reply_within_working_days", 10, minimum=1),
        window_hours=_int(a, "acknowledgement", "window_hours", 24, minimum=0),
        disabled_routes=tuple(disabled),
    )
    safeguarding = SafeguardingSettings(duty_address=raw.get("safeguarding", {}).get("duty_address", ""))

    web = _web(raw["web"], env) if "web" in raw else None
    return Settings(
        service=service,
        database_url=db_url,
        classifier=_classifier(raw.get("classifier", {}), base),
        mailboxes=mailboxes,
        maildir=maildir,
        smtp=smtp,
        outbox=outbox,
        acknowledgement=acknowledgement,
        safeguarding=safeguarding,
        web=web,
        health=_health(raw.get("health", {})),
        source_file=source_file,
    )


def _mailboxes(raw: Mapping[str, Any], env: Mapping[str, str], base: Path) -> tuple[ImapSettings, ...]:
    """The IMAP mailboxes: [imap] alone is one; with [[mailbox]] tables, each table is one and [imap]
    holds what they share (each table's keys win)."""
    shared = raw.get("imap")
    tables = raw.get("mailbox")
    if tables is None:
        return () if shared is None else (_imap(shared, "imap", env, base),)
    if not tables:
        raise ConfigError("[[mailbox]] is empty: add at least one table, or remove it")
    mailboxes = []
    for table in tables:
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError('each [[mailbox]] needs a name (name = "complaints"): it keys the mailbox\'s place '
                              "in the database, so keep it once chosen")
        mailboxes.append(_imap({**(shared or {}), **table}, f"mailbox {name}", env, base, name=name.strip()))
    names = [m.name for m in mailboxes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"[[mailbox]] names must differ; {twice[0]!r} is used twice")
    return tuple(mailboxes)


def _imap(i: Mapping[str, Any], section: str, env: Mapping[str, str], base: Path,
          name: str | None = None) -> ImapSettings:
    """One mailbox; the legacy [imap] section keeps its old name (`imap://user@host:port`), so a database
    that already knows it does not rescan the folder."""
    oauth2 = _oauth2(i, section, env, base)  # first: it explains a password_env that does not belong
    host = _required(i, section, "host")
    port = _int(i, section, "port", 993 if i.get("ssl", True) else 143)
    username = i.get("username", "")
    renew = _int(i, section, "idle_renew_seconds", 1500, minimum=1)
    if renew > _IDLE_RENEW_LIMIT:
        raise ConfigError(f"[{section}] idle_renew_seconds must be at most {_IDLE_RENEW_LIMIT} (servers may end "
                          f"an IDLE after 29 minutes), got {renew}")
    return ImapSettings(
        host=host,
        name=name or f"imap://{username}@{host}:{port}",
        port=port,
        username=username,
        password=_secret(i, section, env),
        ssl=_bool(i, section, "ssl", True),
        folder=i.get("folder", "INBOX"),
        keyword=i.get("keyword", "$EHCTriaged"),
        timeout_seconds=float(i.get("timeout_seconds", 30.0)),
        batch_size=_int(i, section, "batch_size", 50, minimum=1),
        oauth2=oauth2,
        idle=_bool(i, section, "idle", True),
        idle_renew_seconds=renew,
    )


def _health(h: Mapping[str, Any]) -> HealthSettings:
    address = str(h.get("admin_address", "")).strip()
    if address and "@" not in address:
        raise ConfigError(f"[health] admin_address {address!r} is not an email address")
    return HealthSettings(
        admin_address=address,
        poll_stale_minutes=_int(h, "health", "poll_stale_minutes", 30, minimum=1),
        parse_failure_limit=_int(h, "health", "parse_failure_limit", 10, minimum=1),
    )


def _classifier(c: Mapping[str, Any], base: Path) -> ClassifierSettings:
    cron = str(c.get("retrain_cron", "")).strip()
    if cron:
        try:
            CronTrigger.from_crontab(cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"[classifier] retrain_cron {cron!r} is not a crontab expression "
                              f"(minute hour day month weekday, e.g. \"0 2 * * 0\"): {exc}") from None
    share = c.get("retrain_holdout_share", 0.2)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share < 1:
        raise ConfigError(f"[classifier] retrain_holdout_share must be a number between 0 and 1, not {share!r}")
    return ClassifierSettings(
        model_dir=_path(c["model_dir"], base) if c.get("model_dir") else None,
        retrain_cron=cron,
        retrain_holdout_share=float(share),
        retrain_min_confirmed=_int(c, "classifier", "retrain_min_confirmed", 50, minimum=2),
    )


def _web(w: Mapping[str, Any], env: Mapping[str, str]) -> WebSettings:
    secret = ""
    var = w.get("secret_key_env")
    if var:
        if not env.get(var):
            raise ConfigError(f"[web] secret_key_env names {var}, which is not set in the environment")
        secret = env[var]
        if len(secret) < 32:
            raise ConfigError(f"[web] the secret key in {var} is too short: use at least 32 random characters")
    port = _int(w, "web", "port", 8000, minimum=0)
    if port > 65535:
        raise ConfigError(f"[web] port must be at most 65535, got {port}")
    return WebSettings(
        host=str(w.get("host", "127.0.0.1")),
        port=port,
        secret_key=secret,
        session_minutes=_int(w, "web", "session_minutes", 60, minimum=1),
        secure_cookies=_bool(w, "web", "secure_cookies", True),
        threads=_int(w, "web", "threads", 8, minimum=1),
        page_size=_int(w, "web", "page_size", 50, minimum=5),
        login_attempts=_int(w, "web", "login_attempts", 5, minimum=1),
        login_window_minutes=_int(w, "web", "login_window_minutes", 15, minimum=1),
        proxy_count=_int(w, "web", "proxy_count", 0, minimum=0),
    )


def _oauth2(section: Mapping[str, Any], name: str, env: Mapping[str, str], base: Path) -> OAuth2Settings | None:
    """The server's `auth`: None for a password, else where its OAuth2 tokens come from."""
    auth = section.get("auth", "password")
    if auth not in ("password", "oauth2"):
        raise ConfigError(f'[{name}] auth must be "password" or "oauth2", got {auth!r}')
    oauth2_keys = sorted(key for key in section if key.startswith("oauth2_"))
    if auth == "password":
        if oauth2_keys:
            raise ConfigError(f'[{name}] {oauth2_keys[0]} is set but auth is "password": set auth = "oauth2" '
                              f"or remove the oauth2_ keys")
        return None
    if "password_env" in section:
        raise ConfigError(f'[{name}] password_env is not used with auth = "oauth2": remove it')
    if not section.get("username"):
        raise ConfigError(f'[{name}] username is required with auth = "oauth2": the mailbox that signs in')
    provider = section.get("oauth2_provider")
    if not isinstance(provider, str) or provider not in _OAUTH2_PROVIDER_KEYS:
        raise ConfigError(f'[{name}] oauth2_provider must be "microsoft", "google" or "command" with '
                          f'auth = "oauth2", got {provider!r}')
    stray = [key for key in oauth2_keys if key not in _OAUTH2_COMMON_KEYS | _OAUTH2_PROVIDER_KEYS[provider]]
    if stray:
        raise ConfigError(f'[{name}] {stray[0]} does not apply to oauth2_provider = "{provider}": remove it')
    mechanism = section.get("oauth2_mechanism", "xoauth2")
    if mechanism not in ("xoauth2", "oauthbearer"):
        raise ConfigError(f'[{name}] oauth2_mechanism must be "xoauth2" or "oauthbearer", got {mechanism!r}')
    common = OAuth2Settings(section=name, provider=provider, mechanism=mechanism)
    if provider == "microsoft":
        return _microsoft(section, common, env, base)
    if provider == "google":
        key_file = _existing_file(section, common, "oauth2_service_account_file", base)
        subject = section.get("oauth2_subject") or section["username"]
        return replace(common, service_account_file=key_file, subject=subject)
    return replace(common, token_command=_command(section, common))


def _microsoft(section: Mapping[str, Any], common: OAuth2Settings, env: Mapping[str, str],
               base: Path) -> OAuth2Settings:
    """Client credentials for Microsoft 365: a client secret from the environment, or a certificate."""
    name = common.section
    tenant = _required_for(section, common, "oauth2_tenant")
    client_id = _required_for(section, common, "oauth2_client_id")
    if ("oauth2_client_secret_env" in section) == ("oauth2_certificate_file" in section):
        raise ConfigError(f"[{name}] set one of oauth2_client_secret_env or oauth2_certificate_file "
                          f'for oauth2_provider = "microsoft"')
    if "oauth2_certificate_file" in section:
        return replace(common, tenant=tenant, client_id=client_id,
                       certificate_file=_existing_file(section, common, "oauth2_certificate_file", base),
                       certificate_thumbprint=_required_for(section, common, "oauth2_certificate_thumbprint"))
    var = section["oauth2_client_secret_env"]
    if not env.get(var):
        raise ConfigError(f"[{name}] oauth2_client_secret_env names {var}, which is not set in the environment")
    return replace(common, tenant=tenant, client_id=client_id, client_secret_env=var, client_secret=env[var])


def _command(section: Mapping[str, Any], common: OAuth2Settings) -> tuple[str, ...]:
    """The token command's argv, split as a shell would but never run through one."""
    text = _required_for(section, common, "oauth2_token_command")
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"[{common.section}] oauth2_token_command cannot be split into words: {exc}") from None


def _required_for(section: Mapping[str, Any], common: OAuth2Settings, key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'[{common.section}] {key} is required with oauth2_provider = "{common.provider}"')
    return value


def _existing_file(section: Mapping[str, Any], common: OAuth2Settings, key: str, base: Path) -> Path:
    path = _path(_required_for(section, common, key), base)
    if not path.is_file():
        raise ConfigError(f"[{common.section}] {key}: no file at {path}")
    return path


def _path(value: str | Path, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def _required(section: Mapping[str, Any], name: str, key: str) -> Any:
    if key not in section or section[key] in ("", None):
        raise ConfigError(f"[{name}] {key} is required")
    return section[key]


def _int(section: Mapping[str, Any], name: str, key: str, default: int, minimum: int = 0) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"[{name}] {key} must be a whole number >= {minimum}, got {value!r}")
    return value


def _bool(section: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"[{name}] {key} must be true or false, got {value!r}")
    return value


def _strings(section: Mapping[str, Any], name: str, key: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[{name}] {key} must be a list of strings, got {value!r}")
    return value


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"[service] since must be an ISO date such as 2026-09-01, got {value!r}") from None


def _secret(section: Mapping[str, Any], name: str, env: Mapping[str, str]) -> str:
    if "password" in section:
        raise ConfigError(f"[{name}] put the password in an environment variable and name it with password_env")
    var = section.get("password_env")
    if not var:
        return ""
    if var not in env:
        raise ConfigError(f"[{name}] password_env names {var}, which is not set in the environment")
    return env[var]
