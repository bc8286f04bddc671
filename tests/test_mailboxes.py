"""Several mailboxes in one service ([[mailbox]] tables), each failing on its own, and push by IDLE:
the real Dovecot, the real SMTP sink and `ehc-triage` itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from triage.cli import cli
from triage.settings import load_settings
from triage.store import Store

from .conftest import PASSWORD, Mailbox
from .factories import make_email


def _config(tmp_path: Path, mailbox: Mailbox, tables: str, routes: Path, smtp_port: int | None = None,
            poll_seconds: int = 3600) -> Path:
    """[imap] holds the shared server settings; each test adds its [[mailbox]] tables."""
    smtp = (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\n'
            f'from_address = "ehc.assessment@brackenford.example.gov.uk"\n') if smtp_port else ""
    path = tmp_path / "settings.toml"
    path.write_text(f"""
[imap]
host = "127.0.0.1"
port = {mailbox.server.port}
ssl = false
username = "{mailbox.user}"
password_env = "EHC_TEST_IMAP_PASSWORD"

{tables}

[service]
data_dir = "{tmp_path / 'data'}"
poll_interval_seconds = {poll_seconds}
routes_file = "{routes}"

[outbox]
send_interval_seconds = 3600
{smtp}""")
    return path


def _status(config: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--format", "json"])
    return result.exit_code, json.loads(result.output)


def test_each_mailbox_is_polled_and_a_broken_one_stops_only_itself(tmp_path, mailbox, model_dir, filled_routes,
                                                                   monkeypatch):
    monkeypatch.setenv("EHC_TEST_IMAP_PASSWORD", mailbox.password)
    client = mailbox.client()
    client.create_folder("Tribunal")
    client.logout()
    mailbox.append(make_email(subject="Mediation request for Sam"))
    mailbox.append(make_email(subject="Appeal papers", sender="Kit Marsh <kit.marsh@example.org>"), folder="Tribunal")
    config = _config(tmp_path, mailbox, """
[[mailbox]]
name = "inbox"

[[mailbox]]
name = "tribunal"
folder = "Tribunal"

[[mailbox]]
name = "gone"
folder = "No such folder"
""", filled_routes)
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 1  # one mailbox failed: the command says so...
    assert "inbox: fetched 1, queued 1" in result.output and "tribunal: fetched 1, queued 1" in result.output
    assert "gone: cannot open IMAP folder 'No such folder'" in result.stderr  # ...naming it
    settings = load_settings(config)
    store = Store(settings.database_url)
    subjects = {row.subject: row for row in store.items.list_queue()}
    assert set(subjects) == {"Mediation request for Sam", "Appeal papers"}
    code, report = _status(config)
    polls = {m["source"]: m for m in report["mailboxes"]}
    assert code == 1 and set(polls) == {"inbox", "tribunal", "gone"}
    assert polls["inbox"]["consecutive_failures"] == 0 and polls["tribunal"]["consecutive_failures"] == 0
    assert polls["gone"]["last_success_at"] is None and "No such folder" in polls["gone"]["last_error"]
    [problem] = report["problems"]
    assert problem.startswith("gone: no successful poll ever; last error: MailboxError")
    # A second poll finds nothing new in either good mailbox: each keeps its own place.
    again = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert "inbox: fetched 0" in again.output and "tribunal: fetched 0" in again.output


def test_idle_brings_mail_in_and_acknowledged_without_waiting_for_the_poll(tmp_path, mailbox, model_dir,
                                                                           filled_routes, smtp, monkeypatch):
    # The poll runs every hour and sending every hour: only IDLE, and the send a poll asks for, can
    # get this acknowledgement out while the test waits. A second mailbox whose password is wrong
    # fails beside it, on its own.
    config = _config(tmp_path, mailbox, """
[[mailbox]]
name = "inbox"

[[mailbox]]
name = "locked-out"
username = "team-nobody"
""", filled_routes, smtp_port=smtp.port)
    monkeypatch.setenv("EHC_TEST_IMAP_PASSWORD", PASSWORD)
    process = subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _idling(tmp_path / "data"):
            time.sleep(0.2)
            assert process.poll() is None, process.communicate()[1]
        mailbox.append(make_email(subject="We disagree with the plan",
                                  sender="Noor Haddad <noor.haddad@example.net>"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not smtp.messages:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    [ack] = smtp.messages
    # The acknowledgement names neither the sender nor their subject (issue 14: see tests/test_recipients.py).
    assert ack["To"] == "noor.haddad@example.net" and ack["Subject"].startswith("Re: Your message [EHC-")
    assert "waiting for new mail in inbox/INBOX with IDLE" in stderr
    assert "locked-out failed: IMAP login refused" in stderr
    assert process.returncode == 0, stderr
    code, report = _status(config)
    polls = {m["source"]: m for m in report["mailboxes"]}
    assert polls["inbox"]["consecutive_failures"] == 0 and polls["locked-out"]["consecutive_failures"] >= 1
    [problem] = report["problems"]
    assert code == 1 and problem.startswith("locked-out: no successful poll ever; last error: LoginError")


def _idling(data_dir: Path) -> bool:
    """The first poll of the good mailbox is recorded: the service is up and its watcher connected."""
    import sqlite3

    try:
        with sqlite3.connect(data_dir / "triage.db") as db:
            return db.execute("SELECT count(*) FROM poll_status WHERE source = 'inbox' AND last_success_at IS NOT NULL"
                              ).fetchone()[0] > 0
    except sqlite3.Error:
        return False
