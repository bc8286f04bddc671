"""The event log: a chain that verifies, and edits, deletions and reordering found by `audit verify`."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from triage.audit import redact, verify
from triage.cli import cli
from triage.store import Store

from .factories import make_email


@pytest.fixture
def logged(mailbox, imap_config, tmp_path):
    mailbox.append(make_email(sender="Ama Owusu <ama.owusu@example.com>", subject="Ama's plan"),
                   make_email(sender="Ben Hale <ben.hale@example.com>"))
    assert CliRunner().invoke(cli, ["--config", str(imap_config), "poll", "--once"]).exit_code == 0
    return imap_config, create_engine(f"sqlite:///{tmp_path / 'data' / 'triage.db'}")


def _verify(config):
    return CliRunner().invoke(cli, ["--config", str(config), "audit", "verify"])


def test_an_untouched_chain_verifies(logged):
    config, _ = logged
    result = _verify(config)
    assert result.exit_code == 0 and "event log intact" in result.output


def test_an_edited_event_is_found(logged):
    config, engine = logged
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET actor = 'mallory' WHERE id = 3"))
    result = _verify(config)
    assert result.exit_code == 1 and "BROKEN at event 3" in result.output and "edited" in result.output


def test_a_deleted_event_is_found(logged):
    config, engine = logged
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE id = 4"))
    result = _verify(config)
    assert result.exit_code == 1 and "BROKEN at event 5" in result.output and "deleted" in result.output


def test_reordered_events_are_found(logged):
    config, engine = logged
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, name, data FROM events WHERE id IN (2, 3) ORDER BY id")).all()
        conn.execute(text("UPDATE events SET name = :n, data = :d WHERE id = :i"),
                     [{"n": rows[1].name, "d": rows[1].data, "i": 2}, {"n": rows[0].name, "d": rows[0].data, "i": 3}])
    result = _verify(config)
    assert result.exit_code == 1 and "BROKEN at event 2" in result.output


def test_export_redacted_keeps_ids_labels_and_times_but_no_names_or_addresses(logged):
    config, _ = logged
    out = CliRunner().invoke(cli, ["--config", str(config), "audit", "export", "--redact"]).output
    rows = [json.loads(l) for l in out.splitlines()]
    assert rows and all({"id", "at", "name", "hash"} <= set(r) for r in rows)
    assert any(r["name"] == "classified" and r["data"]["label"] for r in rows)
    for personal in ("ama.owusu", "Owusu", "ben.hale", "Ama's plan"):
        assert personal not in out
    full = CliRunner().invoke(cli, ["--config", str(config), "audit", "export", "--format", "csv"]).output
    table = list(csv.DictReader(io.StringIO(full)))
    assert len(table) == len(rows) and "ama.owusu@example.com" in full
    none = CliRunner().invoke(cli, ["--config", str(config), "audit", "export", "--to", "2000-01-01"]).output
    assert none == ""


def test_two_processes_writing_events_at_once_keep_one_unbroken_chain(tmp_path):
    """The poller and the web app are separate processes on one database: each append must see the
    other's last hash (SQLite: BEGIN IMMEDIATE), so the chain never forks and no write fails."""
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    Store(url).migrate()
    stores = [Store(url), Store(url)]  # two engines, as two processes have
    failures: list[BaseException] = []

    def write(store: Store, actor: str) -> None:
        try:
            for n in range(60):
                store.record_event("login_failed", actor, data={"n": n})
                store.events()  # reads in between, as the web app does
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"writer{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    result = verify(stores[0].event_chain())
    assert result.ok and result.checked == 120
    for s in stores:
        s.close()


def test_redaction_keeps_route_and_status_labels_but_not_people():
    assert redact({"from": "mediation", "to": "tribunal"}) == {"from": "mediation", "to": "tribunal"}
    assert redact({"from": "drafted", "reason": "duplicate of EHC-1"}) == {"from": "drafted", "reason": "[redacted]"}
    assert redact({"from": "cw1", "to": "cw2"}) == {"from": "[redacted]", "to": "[redacted]"}
    assert redact({"to": "parent@example.com"}) == {"to": "[redacted]"}
    assert redact({"subject": {"from": "Plan", "to": "Plan for Sam"}}) == {"subject": "[redacted]"}
