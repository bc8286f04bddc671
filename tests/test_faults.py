"""Fault injection (issue 14, items 3, 4 and 7): kill `ehc-triage run` at random moments, stop the mail
servers mid-batch, lock the database, feed it 500 mutated messages, and make the database refuse one
message; each run prints its tally (tests/faults.py) and nothing is lost, stored twice, acknowledged
twice or left stuck. The bigger runs are `make bench` (tests/bench_faults.py)."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from triage.cli import cli

from .factories import make_email
from .fault_scenarios import PASSWORD, RESTART_BEFORE, Setup, kill_run, lock_run, mutation_run, restart_run
from .faults import Workers, settings_file, tally, with_case
from .postgres import Postgres
from .servers import Dovecot

KILLS = 20
MUTATIONS = 500


@pytest.fixture(scope="module")
def fault_dovecot():
    """A Dovecot of this module's own: the restart test stops and starts it."""
    root = Path(tempfile.mkdtemp(prefix="ehc-fault-dovecot-"))
    server = Dovecot(root, users={f"fault{n}": PASSWORD for n in range(1, 20)}).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def workers():
    import os

    pool = Workers({**os.environ, "EHC_FAULT_IMAP_PASSWORD": PASSWORD})
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def postgres():
    server = Postgres(Path(tempfile.mkdtemp(prefix="ehc-fault-postgres-"))).start()
    yield server
    server.stop()


_users = iter(range(1, 20))


@pytest.fixture
def setup(fault_dovecot, workers, tmp_path, monkeypatch) -> Setup:
    monkeypatch.setenv("EHC_FAULT_IMAP_PASSWORD", PASSWORD)  # for the commands this process runs
    return Setup(fault_dovecot, f"fault{next(_users)}", tmp_path, workers)


@pytest.mark.slow
def test_sigkills_during_intake_and_sending_lose_repeat_and_strand_nothing(setup):
    result, landed = kill_run(setup, KILLS)
    print(result.line(f"{KILLS} SIGKILLs of `run`"), dict(landed))
    assert KILLS >= 20 and landed["intake"] >= 3 and landed["sending"] >= 3, landed
    assert (result.lost, result.duplicated, result.double_acknowledged, result.stuck) == (0, 0, 0, 0)
    # The rows a kill left `sending` are failed for a person to check, never resent blindly (the SMTP
    # server may have taken them): those, and no others, are the acknowledgements not sent by themselves.
    assert result.interrupted == landed["rows in doubt"]
    assert result.acknowledged + result.interrupted == result.delivered
    assert result.slowest < 60  # delivery to acknowledgement, kills and restarts included


@pytest.mark.slow
def test_imap_and_smtp_servers_stopped_and_restarted_mid_batch(setup):
    result, seen = restart_run(setup)
    print(result.line("IMAP and SMTP restarted"), seen)
    assert 0 < seen["stored when IMAP stopped"] < RESTART_BEFORE and seen["unsent when SMTP stopped"] > 0, seen
    assert (result.lost, result.duplicated, result.double_acknowledged, result.stuck) == (0, 0, 0, 0)
    assert result.acknowledged == result.delivered
    assert result.slowest < 30


@pytest.mark.slow
def test_the_database_locked_by_another_writer_delays_intake_and_loses_nothing(setup):
    result, held = lock_run(setup)
    print(result.line(f"SQLite write lock held {held:.1f} s by another writer"))
    assert (result.lost, result.duplicated, result.double_acknowledged, result.stuck) == (0, 0, 0, 0)
    # The worker killed while it waited may have claimed the first ten acknowledgements: in doubt, not resent.
    assert result.interrupted <= 10
    assert result.acknowledged + result.interrupted == result.delivered
    assert result.slowest < held + 20


@pytest.mark.slow
def test_mutated_corpus_messages_are_each_stored_once_and_no_poll_aborts(setup, postgres):
    """On PostgreSQL, the stricter database (NUL, column lengths, index entry sizes)."""
    setup = Setup(setup.dovecot, setup.user, setup.root, setup.workers, postgres.create_database())
    result, made, outcomes, refused = mutation_run(setup, MUTATIONS, batch_size=10)
    print(result.line(f"{MUTATIONS} mutated corpus messages ({refused} refused by the IMAP server), "
                      "slowest = the slowest batch of 10"))
    print("outcomes:", dict(sorted(outcomes.items())))
    assert result.delivered >= MUTATIONS - refused and refused < MUTATIONS // 10
    assert (result.lost, result.duplicated, result.stuck) == (0, 0, 0)
    assert result.stored == result.delivered
    assert result.slowest < 10


# -- findings 3 and 4, and the per-message savepoint -----------------------------------------------

def test_a_value_the_database_refuses_stores_that_message_as_a_stub_and_the_rest_of_the_batch(tmp_path, caplog):
    """Without servers (SQLite): a date past year 9999 once in UTC, as finding 3 stored it, given to the store
    directly (the parser now refuses such dates itself), breaks the bulk write; the batch is written
    again a savepoint per message and only that message becomes a stub."""
    import dataclasses
    import datetime as dt

    from triage.audit import verify
    from triage.store import Store

    from .test_store import _new

    store = Store(f"sqlite:///{tmp_path / 'triage.db'}")
    store.migrate()
    far = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    bad = _new(make_email(subject="Private subject 9999"), uid=2)
    bad = dataclasses.replace(bad, parsed=dataclasses.replace(bad.parsed, date=far))
    with caplog.at_level(logging.DEBUG):
        stored = store.messages.add_batch([_new(make_email(subject="first"), uid=1), bad,
                                           _new(make_email(subject="last"), uid=3)])
    assert [s.storage_error for s in stored] == ["", "StatementError (OverflowError)", ""]
    entries = {e.subject: e for e in store.items.list_queue()}
    assert set(entries) == {"first", "Private subject 9999", "last"}
    stub = entries["Private subject 9999"]
    assert stub.parse_error.startswith("storage failed: StatementError (OverflowError)")
    assert stub.needs_review and "storage_failed" in stub.flags and not entries["first"].parse_error
    assert store.folders.folder_state("test", "INBOX") == (7, 3)
    assert verify(store.events.chain()).ok
    assert "Private subject 9999" not in caplog.text and "[parameters" not in caplog.text
    store.close()


def _poll(config: Path) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def _stored(url: str) -> dict[str, str]:
    """Each stored message's case and parse_error."""
    from sqlalchemy import create_engine, text

    from .faults import case_of

    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT raw, parse_error FROM messages")).all()
    engine.dispose()
    return {case_of(bytes(raw)): error for raw, error in rows}


def _column(url: str, sql: str) -> list:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        values = list(c.execute(text(sql)).scalars())
    engine.dispose()
    return values


def _three(setup: Setup, bad: bytes) -> None:
    setup.mailbox.append(with_case("before", make_email(subject="Before it")), with_case("bad", bad),
                         with_case("after", make_email(subject="Behind it")))


def test_a_clash_of_case_references_stores_the_second_message_as_a_stub_not_an_endless_failure(tmp_path):
    """items.reference is unique and a reference holds 25 bits of the message's hash: two messages can
    clash. The second is a unique-key failure that is no duplicate; it is stored as a stub whose
    reference carries its UID, instead of failing the batch at every poll."""
    import dataclasses

    from triage.store import Store

    from .test_store import _new

    store = Store(f"sqlite:///{tmp_path / 'triage.db'}")
    store.migrate()
    first = _new(make_email(subject="first"), uid=1)
    clash = dataclasses.replace(_new(make_email(subject="second"), uid=2), reference=first.reference)
    stored = store.messages.add_batch([first, clash, _new(make_email(subject="third"), uid=3)])
    assert [bool(s.storage_error) for s in stored] == [False, True, False] and not any(s.duplicate for s in stored)
    references = {e.subject: e.reference for e in store.items.list_queue()}
    assert references == {"first": first.reference, "second": f"{first.reference}-U2", "third": "EHC-261102-T0003"}
    store.close()


@pytest.mark.slow
def test_finding_3_a_date_near_year_9999_with_a_negative_offset_no_longer_stops_intake_on_sqlite(setup):
    _three(setup, make_email(subject="From the far future")
           .replace(b"Date: ", b"Date: Fri, 31 Dec 9999 23:59:59 -1200\r\nX-Old-Date: ", 1))
    config = settings_file(setup.root, setup.dovecot.port, setup.user, None, batch_size=10)
    _poll(config)
    assert "fetched 0" in _poll(config)  # nothing left behind it
    assert set(_stored(setup.url)) == {"before", "bad", "after"}
    assert all(b"$EHCTriaged" in flags for flags in setup.mailbox.flags().values())


@pytest.mark.slow
def test_finding_4_a_reply_to_over_320_characters_no_longer_stops_intake_on_postgres(setup, postgres, caplog):
    url = postgres.create_database()
    subject = "Private subject line 4417"
    _three(setup, make_email(subject=subject, extra_headers={"Reply-To": "r" * 400 + "@example.org"}))
    config = settings_file(setup.root, setup.dovecot.port, setup.user, None, url, batch_size=10)
    with caplog.at_level(logging.DEBUG):
        _poll(config)
        assert "fetched 0" in _poll(config)
    assert set(_stored(url)) == {"before", "bad", "after"}
    assert subject not in caplog.text and "[parameters" not in caplog.text


_REFUSE = """
CREATE FUNCTION refuse_marked() RETURNS trigger AS $$
BEGIN
  IF NEW.body_text LIKE '%REFUSE-ME%' THEN
    RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{code}';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_marked BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_marked();
"""


def _refuse(url: str, code: str | None) -> None:
    """A trigger on the real database that refuses a message whose text says REFUSE-ME (None: drop it)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        if code is None:
            conn.execute("DROP TRIGGER refuse_marked ON messages; DROP FUNCTION refuse_marked();")
        else:
            conn.execute(_REFUSE.replace("{code}", code))


@pytest.mark.slow
def test_a_database_error_on_one_message_stores_it_as_a_stub_and_the_batch_commits(setup, postgres, caplog):
    url = postgres.create_database()
    config = settings_file(setup.root, setup.dovecot.port, setup.user, None, url, batch_size=10)
    _poll(config)  # the schema
    _refuse(url, "22001")  # string_data_right_truncation: a DataError, as an over-long value gives
    setup.mailbox.append(*[with_case(f"m{n}", make_email(subject=f"Subject {n} of Dana Whitlock", body=(
        "REFUSE-ME: our daughter's plan" if n == 2 else f"A question about our daughter's plan ({n})."),
        sender=f"Dana Whitlock <dana{n}@example.org>")) for n in range(5)])
    with caplog.at_level(logging.DEBUG):
        _poll(config)
    stored = _stored(url)
    assert set(stored) == {f"m{n}" for n in range(5)}
    assert stored["m2"].startswith("storage failed: ") and "DataError" in stored["m2"]
    assert all(not stored[f"m{n}"] for n in (0, 1, 3, 4))
    assert "Dana Whitlock" not in caplog.text and "REFUSE-ME" not in caplog.text and "[parameters" not in caplog.text
    outcome = tally(url, set(stored))
    assert (outcome.stubs, outcome.lost, outcome.duplicated) == (1, 0, 0)
    listed = CliRunner().invoke(cli, ["--config", str(config), "queue", "list", "--format", "jsonl"]).output
    queue = [json.loads(line) for line in listed.splitlines()]
    [stub] = [e for e in queue if e["parse_error"]]
    assert len(queue) == 5 and stub["needs_review"] and stub["status"] == "needs_review"
    assert stub["subject"] == "Subject 2 of Dana Whitlock" and "could not be stored" in stub["draft_text"]
    assert sorted(_column(url, "SELECT kind FROM outbox")) == ["acknowledgement"] * 4  # none to the stub's sender
    verified = CliRunner().invoke(cli, ["--config", str(config), "audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.mark.slow
def test_a_failing_database_rolls_the_batch_back_whole_and_marks_nothing(setup, postgres):
    """A fault of the database itself (here: query_canceled, as an operator or a restart gives) is not one
    message's: no stubs, nothing marked; the next poll, once the database is well, stores every message."""
    url = postgres.create_database()
    config = settings_file(setup.root, setup.dovecot.port, setup.user, None, url, batch_size=10)
    _poll(config)
    _refuse(url, "57014")
    setup.mailbox.append(*[with_case(f"m{n}", make_email(body="REFUSE-ME" if n == 1 else "Hello")) for n in range(3)])
    failed = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert failed.exit_code == 1
    assert _stored(url) == {}
    assert not any(b"$EHCTriaged" in flags for flags in setup.mailbox.flags().values())
    _refuse(url, None)
    _poll(config)
    assert set(_stored(url)) == {"m0", "m1", "m2"} and not any(_stored(url).values())
