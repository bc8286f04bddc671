"""The embedded demo and the scheduled service, run as a user would run them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from triage.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "triage" / "demo"


def test_demo_reads_the_bundled_mailbox_once_and_prints_where_the_data_lives(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EHC_TRIAGE_CONFIG", raising=False)
    monkeypatch.delenv("EHC_TRIAGE_DATA", raising=False)
    manifest = [json.loads(l) for l in (DEMO / "manifest.jsonl").read_text().splitlines() if l.strip()]
    runner = CliRunner()

    first = runner.invoke(cli, ["demo"])
    second = runner.invoke(cli, ["demo"])

    assert first.exit_code == 0, first.output
    assert f"Read {len(manifest)} new message(s)" in first.output
    assert f"queued {len(manifest)}, 1 flagged as broken" in first.output
    assert f"Database:        sqlite:///{tmp_path / 'var' / 'triage.db'}" in first.output
    assert "Read 0 new message(s)" in second.output
    listed = runner.invoke(cli, ["queue", "list", "--format", "jsonl"])
    items = [json.loads(l) for l in listed.output.splitlines()]
    assert len(items) == len(manifest)
    # The repository's copy is never touched: the demo works on a copy under var/.
    assert not (DEMO / "maildir" / "ehc-triage-uids.json").exists()


def test_queue_list_filters_by_status(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EHC_TRIAGE_CONFIG", raising=False)
    runner = CliRunner()
    runner.invoke(cli, ["demo"])
    everything = runner.invoke(cli, ["queue", "list", "--format", "jsonl"]).output.splitlines()
    review = runner.invoke(cli, ["queue", "list", "--status", "needs_review", "--format", "jsonl"]).output.splitlines()
    assert 0 < len(review) < len(everything)
    assert all(json.loads(l)["status"] == "needs_review" for l in review)
    table = runner.invoke(cli, ["queue", "list"]).output
    assert table.splitlines()[0].split()[:3] == ["ID", "RECEIVED", "FROM"]


def _items(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_run_polls_on_schedule_and_stops_cleanly_on_sigterm(tmp_path, model_dir):
    config = tmp_path / "settings.toml"
    config.write_text(f'[service]\npoll_interval_seconds = 1\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[maildir]\npath = "{tmp_path / "mail"}"\n[outbox]\nsend_interval_seconds = 1\n')
    from triage.service import install_demo_maildir

    install_demo_maildir(tmp_path / "mail")
    process = subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _items(tmp_path / "data" / "triage.db") < 32:
            time.sleep(0.1)
        time.sleep(2.5)  # a few more ticks: later polls find nothing new
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "32 fetched, 32 queued" in stderr
    assert "0 fetched, 0 queued" in stderr
    assert stderr.strip().splitlines()[-1].endswith("service stopped cleanly")
    assert "health every 60s" in stderr
    status = CliRunner().invoke(cli, ["--config", str(config), "status", "--format", "json"])
    assert status.exit_code == 0, status.output  # the run recorded its successful polls
    assert json.loads(status.output)["mailboxes"][0]["source"] == f"maildir:{tmp_path / 'mail'}"
    # The send job ran too: without [smtp], acknowledgements are written as files.
    assert len(list((tmp_path / "data" / "outbox").glob("*-acknowledgement.eml"))) >= 20
