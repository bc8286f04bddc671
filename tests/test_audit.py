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
from triage.events import LoginFailed
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
                store.events.record(LoginFailed(f"user{n}", "192.0.2.1", "wrong password"), actor)
                store.events.all()  # reads in between, as the web app does
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"writer{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    result = verify(stores[0].events.chain())
    assert result.ok and result.checked == 120
    for s in stores:
        s.close()


def test_redaction_keeps_route_and_status_labels_but_not_people():
    assert redact({"from": "mediation", "to": "tribunal"}) == {"from": "mediation", "to": "tribunal"}
    assert redact({"from": "drafted", "reason": "duplicate of EHC-1"}) == {"from": "drafted", "reason": "[redacted]"}
    assert redact({"from": "cw1", "to": "cw2"}) == {"from": "[redacted]", "to": "[redacted]"}
    assert redact({"to": "parent@example.com"}) == {"to": "[redacted]"}
    assert redact({"subject": {"from": "Plan", "to": "Plan for Sam"}}) == {"subject": "[redacted]"}


# -- hash versions: old chains still verify; personal text can be erased --------------------------

def _store_at(tmp_path, revision: str | None = None) -> Store:
    from alembic import command
    from alembic.config import Config

    from triage.store import _MIGRATIONS

    store = Store(f"sqlite:///{tmp_path / 'chain.db'}")
    if revision is None:
        store.migrate()
    else:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", store.url)
        command.upgrade(cfg, revision)
    return store


def test_a_chain_written_before_personal_digests_still_verifies_and_grows(tmp_path):
    import datetime as dt

    from triage.audit import GENESIS_HASH, event_digest

    old = _store_at(tmp_path, "0008")  # the schema as it was: no hash_version, salt or digests
    prev, at = GENESIS_HASH, dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    with old.db.engine.begin() as conn:
        for n, (name, data) in enumerate((("user_added", {"username": "casey", "role": "caseworker"}),
                                          ("login_failed", {"username": "casey", "address": "192.0.2.7",
                                                            "reason": "wrong password"})), start=1):
            digest = event_digest(at, "admin", name, None, None, data, prev)
            conn.execute(text("INSERT INTO events (id, at, actor, name, data, prev_hash, hash) "
                              "VALUES (:id, :at, 'admin', :name, :data, :prev, :hash)"),
                         {"id": n, "at": at.replace(tzinfo=None), "name": name, "data": json.dumps(data),
                          "prev": prev, "hash": digest})
            prev = digest
    old.close()
    store = _store_at(tmp_path)  # migrated to the newest schema: those two stay hash version 1
    store.events.record(LoginFailed("dana", "192.0.2.8", "wrong password"), "anonymous")
    chain = list(store.events.chain())
    assert [e.hash_version for e in chain] == [1, 1, 2] and chain[2].prev_hash == chain[1].hash
    assert verify(chain).ok
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE events SET data = :d WHERE id = 1"), {"d": json.dumps({"username": "mallory",
                                                                                           "role": "admin"})})
    result = verify(store.events.chain())
    assert not result.ok and result.first_broken == 1


def test_erasing_an_events_personal_text_keeps_the_chain_verifying(tmp_path):
    from triage.audit import ERASED, erase

    store = _store_at(tmp_path)
    store.events.record(LoginFailed("ama.owusu", "192.0.2.9", "wrong password"), "anonymous")
    store.events.record(LoginFailed("ben.hale", "192.0.2.10", "wrong password"), "anonymous")
    first = next(iter(store.events.chain()))
    assert set(first.digests) == {"username", "address"} and first.salt
    with store.db.engine.begin() as conn:  # what retention and erasure do, in one transaction
        conn.execute(text("UPDATE events SET data = :d, salt = NULL WHERE id = :i"),
                     {"d": json.dumps(erase(first.data, first.digests)), "i": first.id})
    chain = list(store.events.chain())
    assert chain[0].data == {"username": ERASED, "address": ERASED, "reason": "wrong password"}
    assert verify(chain).ok and "ama.owusu" not in json.dumps([e.data for e in chain])
    # Personal text still there may not be edited; nor may what is left of an erased event.
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE events SET data = :d WHERE id = 2"),
                     {"d": json.dumps({**chain[1].data, "username": "someone.else"})})
    assert verify(store.events.chain()).first_broken == 2
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE events SET data = :d WHERE id = 2"), {"d": json.dumps(chain[1].data)})
        conn.execute(text("UPDATE events SET data = :d WHERE id = 1"),
                     {"d": json.dumps({**chain[0].data, "reason": "locked out"})})
    assert verify(store.events.chain()).first_broken == 1


def test_a_redacted_export_drops_every_field_the_catalogue_calls_personal():
    assert redact({"attachment": 2, "reasons": ["self-harm"]}, personal=("reasons",)) == {
        "attachment": 2, "reasons": "[redacted]"}
