"""Kill the poller at any moment: on restart nothing is lost and nothing is queued twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import cli

from .factories import make_email

TOTAL = 120


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _poll_process(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "poll", "--once"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_batch_loses_and_duplicates_nothing(mailbox, imap_config, tmp_path):
    mailbox.append(*[make_email(subject=f"message {n}", body=f"Please send me a copy of plan number {n}.",
                                sender=f"Parent {n} <parent{n}@example.com>") for n in range(TOTAL)])
    db = tmp_path / "data" / "triage.db"

    process = _poll_process(imap_config)
    deadline = time.monotonic() + 120
    while _count(db, "messages") < 10 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = _count(db, "messages")
    assert 0 < killed_at < TOTAL, f"the kill should land mid-batch, it landed after {killed_at}"

    result = CliRunner().invoke(cli, ["--config", str(imap_config), "poll", "--once"])
    assert result.exit_code == 0, result.output

    assert _count(db, "messages") == TOTAL
    assert _count(db, "items") == TOTAL
    with sqlite3.connect(db) as conn:
        subjects = [row[0] for row in conn.execute("SELECT subject FROM messages")]
        drafts = conn.execute("SELECT count(DISTINCT item_ref) FROM drafts").fetchone()[0]
        acknowledgements = [row[0] for row in conn.execute(
            "SELECT to_address FROM outbox WHERE kind = 'acknowledgement'")]
    assert sorted(subjects) == sorted(f"message {n}" for n in range(TOTAL))
    assert drafts == TOTAL
    # Each acknowledgement was written in its message's transaction: one per message, none twice.
    assert sorted(acknowledgements) == sorted(f"parent{n}@example.com" for n in range(TOTAL))
    assert all(b"$EHCTriaged" in flags for flags in mailbox.flags().values())


def test_messages_stored_but_not_marked_get_marked_and_are_not_queued_again(mailbox, imap_config):
    mailbox.append(*[make_email(subject=f"m{n}") for n in range(5)])
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(imap_config), "poll", "--once"]).exit_code == 0
    # As if the service died after committing but before marking: take the keyword off again.
    c = mailbox.client()
    c.select_folder("INBOX")
    c.remove_flags(c.search(["ALL"]), [b"$EHCTriaged"])
    c.logout()

    result = runner.invoke(cli, ["--config", str(imap_config), "poll", "--once"])

    assert "fetched 0, queued 0" in result.output
    assert all(b"$EHCTriaged" in flags for flags in mailbox.flags().values())
    listed = runner.invoke(cli, ["--config", str(imap_config), "queue", "list", "--format", "jsonl"])
    assert len(listed.output.splitlines()) == 5
