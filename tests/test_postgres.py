"""PostgreSQL as the scale-out database: the same migrations, one unbroken event chain under
concurrent writers, and two `ehc-triage run` workers on one database and one mailbox that never
process or send anything twice, even when one of them is killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes
from triage.audit import verify
from triage.cli import cli
from triage.events import LoginFailed, UserAdded
from triage.domain import FetchedMail
from triage.pipeline import Triage, process
from triage.store import Store

from .factories import make_email
from .postgres import Postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def postgres():
    server = Postgres(Path(tempfile.mkdtemp(prefix="ehc-postgres-"))).start()
    yield server
    server.stop()


@pytest.fixture
def database(postgres) -> str:
    return postgres.create_database()


def test_the_migrations_build_the_schema_and_the_store_works(database):
    store = Store(database)
    store.migrate()
    store.migrate()  # idempotent, as on SQLite
    store.events.record(UserAdded("casey", "caseworker"), "admin")
    assert [e["name"] for e in store.events.all()] == ["user_added"]
    assert store.health.ping()
    store.close()


def test_a_message_full_of_nul_characters_is_stored_not_refused(database, model_dir):
    """PostgreSQL's text columns refuse NUL: a message carrying them must not stop every poll at it."""
    store = Store(database)
    store.migrate()
    triage = Triage(store, classifier.load(model_dir), load_routes(DEFAULT_ROUTES_FILE))
    raw = (b"From: Sam\x00 Ortiz <sam.ortiz@example.org>\r\nSubject: Mediation\x00 please\r\n"
           b"Message-ID: <nul-1@example.org>\r\nContent-Type: text/plain\r\n\r\nWe want\x00 mediation.\r\n")
    report = process(FetchedMail("pg", "INBOX", 1, 1, raw, None), triage)
    assert (report.stored, report.queued) == (1, 1)
    [row] = store.items.list_queue()
    assert row.subject == "Mediation please" and store.messages.raw(row.id) == raw  # the bytes as they came
    assert verify(store.events.chain()).ok
    store.close()


def test_a_batch_with_a_message_another_worker_stored_keeps_the_rest_and_the_chain(database):
    """The bulk write breaks the unique key, so the batch is written again one SAVEPOINT per message."""
    from .test_store import _new

    store = Store(database)
    store.migrate()
    taken = make_email(subject="stored by another worker")
    store.messages.add_message(_new(taken, uid=1))
    stored = store.messages.add_batch([_new(make_email(subject="first"), uid=2), _new(taken, uid=3),
                              _new(make_email(subject="last"), uid=4)])
    assert [s.duplicate for s in stored] == [False, True, False]
    assert store.items.count("messages") == 3 and store.items.count("items") == 3
    assert store.folders.folder_state("test", "INBOX") == (7, 4)
    assert verify(store.events.chain()).ok
    store.close()


def test_concurrent_writers_keep_one_unbroken_event_chain(database):
    Store(database).migrate()
    stores = [Store(database) for _ in range(4)]
    failures: list[BaseException] = []

    def write(store: Store, actor: str) -> None:
        try:
            for n in range(50):
                store.events.record(LoginFailed(f"user{n}", "192.0.2.1", "wrong password"), actor)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"writer{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    result = verify(stores[0].events.chain())
    assert result.ok and result.checked == 200
    for s in stores:
        s.close()


def _count(url: str, sql: str) -> int:
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except psycopg.errors.UndefinedTable:  # not migrated yet
        return 0


def _worker(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "triage", "--config", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())


def _stop(*workers: subprocess.Popen) -> list[str]:
    outputs = []
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            out, _ = w.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            out, _ = w.communicate()
        outputs.append(out or "")
    return outputs


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_workers_on_one_mailbox_never_process_or_send_twice_even_when_one_dies(
        database, mailbox, service_config, smtp, monkeypatch):
    config = service_config
    config.write_text(config.read_text().replace("[outbox]\n", "[outbox]\nsend_interval_seconds = 1\n")
                      + f'\n[database]\nurl = "{database}"\n')
    first = [make_email(subject=f"Plan question {n}", body=f"Please send me a copy of plan {n}.",
                        sender=f"Parent {n} <parent{n}@example.com>") for n in range(40)]
    mailbox.append(*first)

    workers = [_worker(config), _worker(config)]
    try:
        _wait(lambda: _count(database, "SELECT count(*) FROM items") >= 40, 180, "40 items")
        _wait(lambda: _count(database, "SELECT count(*) FROM outbox WHERE status = 'sent'") >= 40, 60, "40 sent")
        time.sleep(2)  # more ticks of both workers: nothing new must happen
    finally:
        outputs = _stop(*workers)
    assert all(w.returncode == 0 for w in workers), outputs

    # Phase two: one worker is killed in the middle of a batch; the other carries on alone.
    second = [make_email(subject=f"Plan question {n}", body=f"Please send me a copy of plan {n}.",
                         sender=f"Parent {n} <parent{n}@example.com>") for n in range(40, 100)]
    mailbox.append(*second)
    doomed, survivor = _worker(config), _worker(config)
    try:
        _wait(lambda: _count(database, "SELECT count(*) FROM items") >= 45, 180, "the first new items")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        _wait(lambda: _count(database, "SELECT count(*) FROM items") >= 100, 180, "all 100 items")
        _wait(lambda: _count(database, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')") == 0
              or _count(database, "SELECT count(*) FROM outbox WHERE status = 'sent'") >= 100, 60, "the outbox")
        time.sleep(2)
    finally:
        _stop(survivor)
        if doomed.stdout:
            doomed.stdout.close()

    assert _count(database, "SELECT count(*) FROM messages") == 100
    assert _count(database, "SELECT count(DISTINCT dedupe_key) FROM messages") == 100
    assert _count(database, "SELECT count(*) FROM items") == 100
    assert _count(database, "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'") == 100
    acknowledgements = [m for m in smtp.messages if m["Auto-Submitted"] == "auto-replied"]
    answered = [m["In-Reply-To"] for m in acknowledgements]
    assert len(answered) == len(set(answered)), "an acknowledgement was sent twice"
    # A send cut off by the kill is failed for a person to check, never resent blindly: so at most 100.
    assert 99 <= len(answered) <= 100
    assert all(flags and b"$EHCTriaged" in flags for flags in mailbox.flags().values())
    result = CliRunner().invoke(cli, ["--config", str(config), "audit", "verify"])
    assert result.exit_code == 0 and "event log intact" in result.output, result.output
