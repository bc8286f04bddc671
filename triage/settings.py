"""Read the TOML settings file and the environment variables it names, once, into frozen Settings.

This is the only module that reads the environment. Everything else is handed a Settings.
With no file at all the service runs on its embedded default: the bundled demo Maildir,
a SQLite database and outgoing mail written as files, all under the data directory.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

CONFIG_ENV = "EHC_TRIAGE_CONFIG"
DATA_ENV = "EHC_TRIAGE_DATA"
DEFAULT_DATA_DIR = "var"
DEMO_MAILDIR = Path(__file__).parent / "demo" / "maildir"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int = 993
    username: str = ""
    password: str = field(default="", repr=False)
    ssl: bool = True
    folder: str = "INBOX"
    keyword: str = "$EHCTriaged"
    timeout_seconds: float = 30.0
    batch_size: int = 50


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = 30.0


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


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    database_url: str
    classifier: ClassifierSettings
    imap: ImapSettings | None = None
    maildir: Path | None = None
    smtp: SmtpSettings | None = None
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    acknowledgement: AcknowledgementSettings = field(default_factory=AcknowledgementSettings)
    safeguarding: SafeguardingSettings = field(default_factory=SafeguardingSettings)
    web: WebSettings | None = None  # None: no [web] section, so `run` serves no web app
    source_file: Path | None = None

    @property
    def source_name(self) -> str:
        if self.imap is not None:
            return f"imap://{self.imap.username}@{self.imap.host}:{self.imap.port}"
        return f"maildir:{self.maildir}"

    @property
    def is_embedded_default(self) -> bool:
        return self.source_file is None


_KNOWN = {
    "imap": {"host", "port", "username", "password", "password_env", "ssl", "folder", "keyword", "timeout_seconds", "batch_size"},
    "smtp": {"host", "port", "username", "password", "password_env", "starttls", "ssl", "from_address", "from_name", "timeout_seconds"},
    "database": {"url"},
    "service": {"poll_interval_seconds", "since", "data_dir", "mode", "own_addresses", "routes_file"},
    "maildir": {"path"},
    "outbox": {"directory", "send_interval_seconds", "max_attempts", "retry_base_seconds", "sent_folder",
               "stale_sending_minutes"},
    "acknowledgement": {"enabled", "reply_within_working_days", "window_hours", "disabled_routes"},
    "safeguarding": {"duty_address"},
    "classifier": {"model_dir"},
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
        unknown = set(value) - _KNOWN[section]
        if unknown:
            raise ConfigError(f"unknown key(s) in [{section}]: {', '.join(sorted(unknown))}")

    svc = raw.get("service", {})
    data_dir = _path(svc.get("data_dir") or env.get(DATA_ENV) or DEFAULT_DATA_DIR, base)
    smtp_raw = raw.get("smtp")
    mode = svc.get("mode", "live")
    if mode not in ("live", "shadow"):
        raise ConfigError(f'[service] mode must be "live" or "shadow", got {mode!r}')
    service = ServiceSettings(
        poll_interval_seconds=_int(svc, "service", "poll_interval_seconds", 60, minimum=1),
        since=_date(svc.get("since")),
        data_dir=data_dir,
        from_address=(smtp_raw or {}).get("from_address", ServiceSettings.from_address),
        from_name=(smtp_raw or {}).get("from_name", ServiceSettings.from_name),
        mode=mode,
        own_addresses=tuple(a.lower() for a in _strings(svc, "service", "own_addresses")),
        routes_file=_path(svc["routes_file"], base) if svc.get("routes_file") else None,
    )
    db_url = raw.get("database", {}).get("url") or f"sqlite:///{data_dir / 'triage.db'}"

    imap = None
    if "imap" in raw:
        i = raw["imap"]
        imap = ImapSettings(
            host=_required(i, "imap", "host"),
            port=_int(i, "imap", "port", 993 if i.get("ssl", True) else 143),
            username=i.get("username", ""),
            password=_secret(i, "imap", env),
            ssl=_bool(i, "imap", "ssl", True),
            folder=i.get("folder", "INBOX"),
            keyword=i.get("keyword", "$EHCTriaged"),
            timeout_seconds=float(i.get("timeout_seconds", 30.0)),
            batch_size=_int(i, "imap", "batch_size", 50, minimum=1),
        )
    maildir = None
    if "maildir" in raw:
        maildir = _path(_required(raw["maildir"], "maildir", "path"), base)
    if imap is not None and maildir is not None:
        raise ConfigError("configure either [imap] or [maildir], not both")
    if imap is None and maildir is None:
        maildir = data_dir / "demo-maildir"

    smtp = None
    if smtp_raw is not None:
        smtp = SmtpSettings(
            host=_required(smtp_raw, "smtp", "host"),
            port=_int(smtp_raw, "smtp", "port", 587),
            username=smtp_raw.get("username", ""),
            password=_secret(smtp_raw, "smtp", env),
            starttls=_bool(smtp_raw, "smtp", "starttls", not smtp_raw.get("ssl", False)),
            ssl=_bool(smtp_raw, "smtp", "ssl", False),
            timeout_seconds=float(smtp_raw.get("timeout_seconds", 30.0)),
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

    model_dir = raw.get("classifier", {}).get("model_dir")
    web = _web(raw["web"], env) if "web" in raw else None
    return Settings(
        service=service,
        database_url=db_url,
        classifier=ClassifierSettings(model_dir=_path(model_dir, base) if model_dir else None),
        imap=imap,
        maildir=maildir,
        smtp=smtp,
        outbox=outbox,
        acknowledgement=acknowledgement,
        safeguarding=safeguarding,
        web=web,
        source_file=source_file,
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
