"""A message over [service] max_message_bytes is not downloaded (issue 14: a 50 MB message took 700 MB in
the poll): the source fetches its size first and only its first 64 KB, and the pipeline stores it as a stub
for review with its true size in the reason. Against the real Dovecot, and from a Maildir."""

from __future__ import annotations

import json
import os
import random

from click.testing import CliRunner
from imapclient import IMAPClient
from sqlalchemy import text

from triage import intake
from triage.cli import cli
from triage.message_bounds import HEAD_BYTES, megabytes
from triage.settings import load_settings
from triage.store import Store

from .factories import make_email

LIMIT = 200_000


def _big_email() -> bytes:
    """About 2 MB: a letter with a 1.5 MB scan attached (random bytes, so base64 cannot shrink it)."""
    scan = random.Random(14).randbytes(1_500_000)
    return make_email(subject="big", body="Please see the attached scan of the decision letter.",
                      attachment=("scan.pdf", "application/pdf", scan))


def _poll(config) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def _queue(config) -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["--config", str(config), "queue", "list", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    by_subject = {i["subject"]: i for i in items}
    assert len(by_subject) == len(items)  # each message queued once
    return by_subject


def _stored(config) -> dict[str, tuple[int, int, str]]:
    """subject -> (uid, length of the stored raw, parse_error) for every stored message."""
    store = Store(load_settings(config).database_url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT uid, subject, length(raw) AS n, parse_error FROM messages")).all()
    finally:
        store.close()
    return {r.subject: (r.uid, r.n, r.parse_error or "") for r in rows}


def _reason(size: int) -> str:
    return f"message larger than {megabytes(LIMIT)} MB ({megabytes(size)} MB): not read; open it in the mail client"


def test_imap_fetches_only_the_head_of_a_message_over_the_limit(mailbox, imap_config, monkeypatch):
    imap_config.write_text(imap_config.read_text().replace("[service]", f"[service]\nmax_message_bytes = {LIMIT}"))
    big = _big_email()
    assert len(big) > 1_900_000
    mailbox.append(make_email(subject="before"), big, make_email(subject="after"), make_email(subject="last"))
    c = mailbox.client()
    c.select_folder("INBOX", readonly=True)
    [(big_uid, parts)] = [(u, p) for u, p in c.fetch(c.search(["SUBJECT", "big"]), ["RFC822.SIZE"]).items()]
    size = parts[b"RFC822.SIZE"]
    c.logout()

    fetched: dict[int, list[tuple[tuple, int]]] = {}  # uid -> (items asked, bytes of body data received)
    real_fetch = IMAPClient.fetch

    def counting_fetch(self, messages, data, *args, **kwargs):
        answer = real_fetch(self, messages, data, *args, **kwargs)
        for uid, parts in answer.items():
            body = sum(len(v) for k, v in parts.items() if k.startswith(b"BODY[") and isinstance(v, bytes))
            fetched.setdefault(uid, []).append((tuple(data), body))
        return answer

    monkeypatch.setattr(IMAPClient, "fetch", counting_fetch)
    first = _poll(imap_config)
    assert "fetched 4, queued 4" in first

    assert sum(n for _, n in fetched[big_uid]) == HEAD_BYTES  # its first 64 KB, not its 2 MB
    assert [asked for asked, _ in fetched[big_uid]] == [("RFC822.SIZE", "INTERNALDATE"), (f"BODY.PEEK[]<0.{HEAD_BYTES}>",)]
    for uid, calls in fetched.items():
        if uid != big_uid:
            assert [asked for asked, _ in calls] == [("RFC822.SIZE", "INTERNALDATE"), ("BODY.PEEK[]",)]
            assert sum(n for _, n in calls) < 10_000

    items = _queue(imap_config)
    assert sorted(items) == ["after", "before", "big", "last"]
    assert items["big"]["needs_review"] and items["big"]["parse_error"] == _reason(size)
    stored = _stored(imap_config)
    assert stored["big"] == (big_uid, HEAD_BYTES, _reason(size))
    for subject in ("before", "after", "last"):  # the messages around it are read as usual
        assert not items[subject]["parse_error"] and items[subject]["draft_text"].strip()
        assert stored[subject][2] == ""

    flags = mailbox.flags()
    assert len(flags) == 4 and all(b"$EHCTriaged" in f and b"\\Seen" not in f for f in flags.values())
    fetched.clear()
    assert "fetched 0, queued 0" in _poll(imap_config)
    assert not fetched  # nothing fetched again
    assert len(_queue(imap_config)) == 4


def test_maildir_reads_only_the_head_of_a_file_over_the_limit(tmp_path, model_dir, monkeypatch):
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    big = _big_email()
    for n, (name, raw) in enumerate([("1.before", make_email(subject="before")), ("2.big", big),
                                     ("3.after", make_email(subject="after"))]):
        path = maildir / "new" / name
        path.write_bytes(raw)
        os.utime(path, ns=(n * 1_000_000_000, n * 1_000_000_000))  # UIDs in this order
    config = tmp_path / "settings.toml"
    config.write_text(f"""
[maildir]
path = "{maildir}"

[service]
data_dir = "{tmp_path / 'data'}"
max_message_bytes = {LIMIT}
""")
    lengths: dict[int, list[int]] = {}
    real_fetch = intake.MaildirSource.fetch

    def counting_fetch(self, uids):
        for mail in real_fetch(self, uids):
            lengths.setdefault(mail.uid, []).append(len(mail.raw))
            yield mail

    monkeypatch.setattr(intake.MaildirSource, "fetch", counting_fetch)
    assert "fetched 3, queued 3" in _poll(config)
    assert lengths[2] == [HEAD_BYTES]  # the 2 MB file: only its first 64 KB read
    items = _queue(config)
    assert sorted(items) == ["after", "before", "big"]
    assert items["big"]["needs_review"] and items["big"]["parse_error"] == _reason(len(big))
    assert _stored(config)["big"] == (2, HEAD_BYTES, _reason(len(big)))
    assert not items["before"]["parse_error"] and not items["after"]["parse_error"]
    lengths.clear()
    assert "fetched 0, queued 0" in _poll(config)
    assert not lengths and len(_queue(config)) == 3
