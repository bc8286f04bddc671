"""Read the TOML settings file and the environment variables it names, once, into frozen Settings.

This is the only module that reads the environment. Everything else is handed a Settings.
With no file at all the service runs on its embedded default: the bundled demo Maildir,
a SQLite database and outgoing mail written as files, all under the data directory.

Each key is declared once in settings_keys (name, kind, default, help); settings_reading checks and
reads tables by those declarations, and this module only says what the keys become and the rules
between them. `python -m triage.settings example|readme` prints the example file or README's table.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any, Mapping

from apscheduler.triggers.cron import CronTrigger

from classifier.labels import is_route

from .errors import ConfigError
from .settings_keys import SECTION, key
from .settings_oauth2 import oauth2
from .settings_reading import path as resolve_path, read_key, read_table, refuse_undeclared, secret
from .settings_types import (DEFAULT_DATA_DIR, AcknowledgementSettings, ClassifierSettings, HealthSettings,
                             ImapSettings, OAuth2Settings, OutboxSettings, RetentionSettings, SafeguardingSettings,
                             ServiceSettings, Settings, SmtpSettings, WebSettings)

__all__ = ["CONFIG_ENV", "DATA_ENV", "DEFAULT_DATA_DIR", "DEMO_MAILDIR", "AcknowledgementSettings",
           "ClassifierSettings", "HealthSettings", "ImapSettings", "OAuth2Settings", "OutboxSettings",
           "RetentionSettings", "SafeguardingSettings", "ServiceSettings", "Settings", "SmtpSettings", "WebSettings",
           "load_settings"]

CONFIG_ENV = "EHC_TRIAGE_CONFIG"
DATA_ENV = "EHC_TRIAGE_DATA"
DEMO_MAILDIR = Path(__file__).parent / "demo" / "maildir"
_IDLE_RENEW_LIMIT = 29 * 60 - 60  # RFC 2177: a server may log a client out after 29 minutes of IDLE


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
    refuse_undeclared(raw)
    svc = read_table(raw.get("service", {}), SECTION["service"])
    data_dir = resolve_path(svc["data_dir"] or env.get(DATA_ENV) or DEFAULT_DATA_DIR, base)
    smtp_raw = raw.get("smtp")
    service = ServiceSettings(
        poll_interval_seconds=svc["poll_interval_seconds"],
        since=svc["since"],
        data_dir=data_dir,
        from_address=read_key(smtp_raw or {}, key("smtp", "from_address"), "smtp"),
        from_name=read_key(smtp_raw or {}, key("smtp", "from_name"), "smtp"),
        mode=svc["mode"],
        own_addresses=tuple(a.lower() for a in svc["own_addresses"]),
        routes_file=resolve_path(svc["routes_file"], base) if svc["routes_file"] else None,
        log_format=svc["log_format"],
        max_message_bytes=svc["max_message_bytes"],
        backlog_worker=svc["backlog_worker"],
    )
    db_url = read_table(raw.get("database", {}), SECTION["database"])["url"] or f"sqlite:///{data_dir / 'triage.db'}"

    mailboxes = _mailboxes(raw, env, base)
    maildir = None
    if "maildir" in raw:
        maildir = resolve_path(read_table(raw["maildir"], SECTION["maildir"])["path"], base)
    if mailboxes and maildir is not None:
        raise ConfigError("configure either IMAP ([imap] or [[mailbox]]) or [maildir], not both")
    if not mailboxes and maildir is None:
        maildir = data_dir / "demo-maildir"

    o = read_table(raw.get("outbox", {}), SECTION["outbox"])
    a = read_table(raw.get("acknowledgement", {}), SECTION["acknowledgement"])
    unknown_routes = {r for r in a["disabled_routes"] if not is_route(r)}
    if unknown_routes:
        raise ConfigError(f"[acknowledgement] disabled_routes has unknown route(s): {', '.join(sorted(unknown_routes))}")
    return Settings(
        service=service,
        database_url=db_url,
        classifier=_classifier(raw.get("classifier", {}), base),
        mailboxes=mailboxes,
        maildir=maildir,
        smtp=_smtp(smtp_raw, env, base) if smtp_raw is not None else None,
        outbox=OutboxSettings(**{**o, "directory": resolve_path(o["directory"], data_dir)}),
        acknowledgement=AcknowledgementSettings(**a),
        safeguarding=SafeguardingSettings(**read_table(raw.get("safeguarding", {}), SECTION["safeguarding"])),
        web=_web(raw["web"], env) if "web" in raw else None,
        health=_health(raw.get("health", {})),
        source_file=source_file,
        retention=_retention(raw.get("retention", {})),
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
    sign_in = oauth2(i, section, env, base)  # first: it explains a password_env that does not belong
    v = read_table(i, SECTION["imap"], section)
    port = v["port"] if v["port"] is not None else (993 if v["ssl"] else 143)
    if v["idle_renew_seconds"] > _IDLE_RENEW_LIMIT:
        raise ConfigError(f"[{section}] idle_renew_seconds must be at most {_IDLE_RENEW_LIMIT} (servers may end "
                          f"an IDLE after 29 minutes), got {v['idle_renew_seconds']}")
    return ImapSettings(
        host=v["host"], name=name or f"imap://{v['username']}@{v['host']}:{port}", port=port,
        username=v["username"], password=secret(i, section, env), ssl=v["ssl"], folder=v["folder"],
        keyword=v["keyword"], timeout_seconds=v["timeout_seconds"], batch_size=v["batch_size"], oauth2=sign_in,
        idle=v["idle"], idle_renew_seconds=v["idle_renew_seconds"],
    )


def _smtp(s: Mapping[str, Any], env: Mapping[str, str], base: Path) -> SmtpSettings:
    sign_in = oauth2(s, "smtp", env, base)
    v = read_table(s, SECTION["smtp"])
    starttls = v["starttls"] if v["starttls"] is not None else not v["ssl"]
    if v["ssl"] and starttls:
        raise ConfigError("[smtp] ssl and starttls cannot both be true")
    return SmtpSettings(host=v["host"], port=v["port"], username=v["username"], password=secret(s, "smtp", env),
                        starttls=starttls, ssl=v["ssl"], timeout_seconds=v["timeout_seconds"], oauth2=sign_in)


def _health(h: Mapping[str, Any]) -> HealthSettings:
    v = read_table(h, SECTION["health"])
    address = v["admin_address"].strip()
    if address and "@" not in address:
        raise ConfigError(f"[health] admin_address {address!r} is not an email address")
    return HealthSettings(**{**v, "admin_address": address})


def _retention(r: Mapping[str, Any]) -> RetentionSettings:
    v = read_table(r, SECTION["retention"])
    cron = v["cron"].strip()
    if cron:
        try:
            CronTrigger.from_crontab(cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"[retention] cron {cron!r} is not a crontab expression: {exc}") from None
    return RetentionSettings(**{**v, "cron": cron})


def _classifier(c: Mapping[str, Any], base: Path) -> ClassifierSettings:
    v = read_table(c, SECTION["classifier"])
    cron = v["retrain_cron"].strip()
    if cron:
        try:
            CronTrigger.from_crontab(cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"[classifier] retrain_cron {cron!r} is not a crontab expression "
                              f"(minute hour day month weekday, e.g. \"0 2 * * 0\"): {exc}") from None
    model_dir = resolve_path(v["model_dir"], base) if v["model_dir"] else None
    return ClassifierSettings(**{**v, "model_dir": model_dir, "retrain_cron": cron})


def _web(w: Mapping[str, Any], env: Mapping[str, str]) -> WebSettings:
    v = read_table(w, SECTION["web"])
    secret_key = ""
    var = v.pop("secret_key_env")
    if var:
        if not env.get(var):
            raise ConfigError(f"[web] secret_key_env names {var}, which is not set in the environment")
        secret_key = env[var]
        if len(secret_key) < 32:
            raise ConfigError(f"[web] the secret key in {var} is too short: use at least 32 random characters")
    if v["port"] > 65535:
        raise ConfigError(f"[web] port must be at most 65535, got {v['port']}")
    return WebSettings(**v, secret_key=secret_key)


if __name__ == "__main__":
    from .settings_docs import main

    sys.exit(main(sys.argv[1:]))
