"""Intake against a real Dovecot: every message queued exactly once, marked, never \\Seen."""

from __future__ import annotations

import json

from click.testing import CliRunner

from triage.cli import cli

from .factories import make_email, varied_messages


def _poll(config) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def _queue(config) -> list[dict]:
    result = CliRunner().invoke(cli, ["--config", str(config), "queue", "list", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_thirty_varied_messages_are_each_queued_once_with_a_draft_and_marked(mailbox, imap_config):
    messages = varied_messages()
    mailbox.append(*messages)

    first = _poll(imap_config)
    second = _poll(imap_config)

    assert "fetched 30, queued 30" in first
    assert "fetched 0, queued 0" in second
    items = _queue(imap_config)
    assert len(items) == 30
    assert len({i["message_id"] for i in items}) == 30
    for item in items:
        assert item["draft_subject"].startswith("Re: ")
        assert item["draft_text"].strip()
        assert item["label"] in {"disagreement_resolution", "mediation", "tribunal", "other"}
    broken = [i for i in items if i["subject"] == "broken"]
    assert broken and broken[0]["needs_review"] and broken[0]["parse_error"]
    flags = mailbox.flags()
    assert len(flags) == 30
    assert all(b"$EHCTriaged" in f for f in flags.values())
    assert not any(b"\\Seen" in f for f in flags.values())


def test_new_mail_after_a_poll_is_picked_up_without_repeating_the_old(mailbox, imap_config):
    mailbox.append(make_email(subject="first"))
    _poll(imap_config)
    mailbox.append(make_email(subject="second"), make_email(subject="third"))
    assert "fetched 2, queued 2" in _poll(imap_config)
    assert sorted(i["subject"] for i in _queue(imap_config)) == ["first", "second", "third"]


def test_uidvalidity_change_rescans_without_queueing_anything_twice(mailbox, imap_config, tmp_path):
    mailbox.append(make_email(subject="before"), make_email(subject="also before"))
    _poll(imap_config)
    # Recreate the folder: the server gives it a new UIDVALIDITY and new UIDs for the same messages.
    c = mailbox.client()
    c.create_folder("Archive")
    c.select_folder("INBOX")
    c.copy(c.search(["ALL"]), "Archive")
    c.delete_messages(c.search(["ALL"]))
    c.expunge()
    c.logout()
    config = tmp_path / "archive.toml"
    config.write_text(imap_config.read_text().replace('ssl = false', 'ssl = false\nfolder = "Archive"'))
    mailbox.append(make_email(subject="after"), folder="Archive")
    output = _poll(config)
    assert "queued 1, duplicates 2" in output
    assert sorted(i["subject"] for i in _queue(config)) == ["after", "also before", "before"]


def test_mail_older_than_since_is_recorded_but_not_queued(mailbox, imap_config):
    import datetime as dt

    imap_config.write_text(imap_config.read_text().replace("[service]", '[service]\nsince = "2026-10-01"'))
    old = make_email(subject="years old", date=dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc))
    c = mailbox.client()
    c.append("INBOX", old, msg_time=dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone.utc))
    c.append("INBOX", make_email(subject="new"), msg_time=dt.datetime(2026, 11, 2, 12, tzinfo=dt.timezone.utc))
    c.logout()
    output = _poll(imap_config)
    assert "fetched 2, queued 1" in output and "recorded only 1" in output
    assert [i["subject"] for i in _queue(imap_config)] == ["new"]


def test_wrong_password_gives_one_clear_line_and_a_non_zero_exit(mailbox, imap_config, monkeypatch):
    monkeypatch.setenv("EHC_TEST_IMAP_PASSWORD", "wrong")
    result = CliRunner().invoke(cli, ["--config", str(imap_config), "poll", "--once"])
    assert result.exit_code != 0
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1
    assert "IMAP login refused" in lines[0] and "password_env" in lines[0]


def test_unreachable_server_gives_one_clear_line(imap_config):
    from .servers import free_port

    text = imap_config.read_text()
    port_line = next(l for l in text.splitlines() if l.startswith("port"))
    imap_config.write_text(text.replace(port_line, f"port = {free_port()}"))
    result = CliRunner().invoke(cli, ["--config", str(imap_config), "poll", "--once"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot connect to IMAP server 127.0.0.1")
