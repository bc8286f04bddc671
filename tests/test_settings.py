"""Settings: TOML read once, secrets only from the environment variables the file names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.settings import load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_embedded_demo_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, environ={})
    assert s.is_embedded_default
    assert s.mailboxes == () and s.smtp is None
    assert s.maildir == tmp_path / "var" / "demo-maildir"
    assert s.database_url == f"sqlite:///{tmp_path / 'var' / 'triage.db'}"
    assert s.service.poll_interval_seconds == 60 and s.service.since is None


def test_full_file_with_password_from_the_environment(tmp_path):
    path = _write(tmp_path, """
[imap]
host = "imap.example.net"
port = 1993
username = "ehc-team"
password_env = "MY_IMAP_PW"
ssl = true
folder = "Shared/EHC"

[smtp]
host = "smtp.example.net"
port = 2587
username = "ehc-team"
password_env = "MY_SMTP_PW"
starttls = true
ssl = false
from_address = "ehc.assessment@brackenford.example.gov.uk"

[database]
url = "sqlite:////srv/ehc/triage.db"

[service]
poll_interval_seconds = 120
since = 2026-09-01
data_dir = "data"
""")
    s = load_settings(path, environ={"MY_IMAP_PW": "pw1", "MY_SMTP_PW": "pw2"})
    (m,) = s.mailboxes
    assert m.name == "imap://ehc-team@imap.example.net:1993"  # the name an [imap] mailbox always had
    assert (m.host, m.port, m.username, m.password, m.ssl, m.folder) == (
        "imap.example.net", 1993, "ehc-team", "pw1", True, "Shared/EHC")
    assert (s.smtp.host, s.smtp.port, s.smtp.password, s.smtp.starttls, s.smtp.ssl) == (
        "smtp.example.net", 2587, "pw2", True, False)
    assert s.service.from_address == "ehc.assessment@brackenford.example.gov.uk"
    assert s.database_url == "sqlite:////srv/ehc/triage.db"
    assert s.service.since == dt.date(2026, 9, 1)
    assert s.service.data_dir == tmp_path / "data"
    assert "pw1" not in repr(s)


def test_the_env_variable_names_the_config_file(tmp_path):
    path = _write(tmp_path, '[service]\npoll_interval_seconds = 5\n')
    assert load_settings(None, environ={"EHC_TRIAGE_CONFIG": str(path)}).service.poll_interval_seconds == 5


@pytest.mark.parametrize("text, message", [
    ('[imap]\nhost = "h"\npassword = "x"\n', "put the password in an environment variable"),
    ('[imap]\nhost = "h"\npassword_env = "NOPE"\n', "NOPE, which is not set"),
    ('[imap]\nport = 1\n', "[imap] host is required"),
    ('[service]\nsince = "last year"\n', "ISO date"),
    ('[service]\npoll_interval_seconds = 0\n', "whole number >= 1"),
    ('[imap]\nhost = "h"\nssl = "yes"\n', "true or false"),
    ('[service]\npoll_intervall_seconds = 5\n', "unknown key(s) in [service]: poll_intervall_seconds"),
    ('[imapp]\n', "unknown config section [imapp]"),
    ('[smtp]\nhost = "h"\nssl = true\nstarttls = true\n', "cannot both be true"),
    ('not toml at all', "not valid TOML"),
])
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as info:
        load_settings(_write(tmp_path, text), environ={})
    assert message in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_mailbox_tables_share_the_imap_section_and_each_wins_on_its_own_keys(tmp_path):
    path = _write(tmp_path, """
[imap]
host = "imap.example.net"
username = "ehc-team"
password_env = "TEAM_PW"
idle_renew_seconds = 600

[[mailbox]]
name = "inbox"

[[mailbox]]
name = "tribunal"
folder = "Shared/Tribunal"
username = "send-tribunal"
password_env = "TRIBUNAL_PW"
idle = false
""")
    s = load_settings(path, environ={"TEAM_PW": "pw1", "TRIBUNAL_PW": "pw2"})
    inbox, tribunal = s.mailboxes
    assert (inbox.name, inbox.host, inbox.username, inbox.password, inbox.folder, inbox.idle,
            inbox.idle_renew_seconds) == ("inbox", "imap.example.net", "ehc-team", "pw1", "INBOX", True, 600)
    assert (tribunal.name, tribunal.host, tribunal.username, tribunal.password, tribunal.folder, tribunal.idle) == (
        "tribunal", "imap.example.net", "send-tribunal", "pw2", "Shared/Tribunal", False)
    assert s.mailbox("tribunal") is tribunal and s.mailbox("x") is None


@pytest.mark.parametrize("text, message", [
    ('[[mailbox]]\nhost = "h"\n', r"each \[\[mailbox\]\] needs a name"),
    ('[[mailbox]]\nname = "a"\nhost = "h"\n[[mailbox]]\nname = "a"\nhost = "h2"\n', "'a' is used twice"),
    ('[[mailbox]]\nname = "a"\n', r"\[mailbox a\] host is required"),
    ('[[mailbox]]\nname = "a"\nhost = "h"\nfolders = "x"\n', r"unknown key\(s\) in \[mailbox\]: folders"),
    ('[imap]\nhost = "h"\nidle_renew_seconds = 1800\n', "idle_renew_seconds must be at most 1680"),
    ('[mailbox]\nname = "a"\nhost = "h"\n', r"written as \[\[mailbox\]\] tables"),
    ('[[mailbox]]\nname = "a"\nhost = "h"\n[maildir]\npath = "m"\n', "not both"),
])
def test_mailbox_mistakes_are_refused_with_the_fix(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(_write(tmp_path, text), environ={})
