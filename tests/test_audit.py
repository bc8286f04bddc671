"""The event log: a chain that verifies, and edits, deletions and reordering found by `audit verify`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from triage.cli import cli

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
