"""The store: one transaction per message, duplicates refused, every event chained to the one before."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from triage.domain import Classification, DraftText, FetchedMail
from triage.parsing import parse_message
from triage.audit import GENESIS_HASH
from triage.domain import NewMessage, dedupe_key
from triage.store import DuplicateMessage, Store

from .factories import make_email


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'db' / 'triage.db'}")
    s.migrate()
    yield s
    s.close()


def _new(raw: bytes, uid: int = 1, recorded_only: bool = False) -> NewMessage:
    parsed = parse_message(raw)
    return NewMessage(
        fetched=FetchedMail("test", "INBOX", 7, uid, raw),
        parsed=parsed,
        key=dedupe_key(parsed.message_id, raw),
        reference=f"EHC-261102-T{uid:04d}",
        recorded_only=recorded_only,
        classification=Classification("mediation", 0.91, False, False, {"mediation": 0.91, "other": 0.09}, "m-test",
                                      ("decision letter",)),
        draft=DraftText("Re: x", "Dear Rosa", "<p>Dear Rosa</p>"),
    )


def test_a_message_is_stored_with_item_draft_and_classification(store):
    item_id = store.messages.add_message(_new(make_email(subject="Final plan")))
    entry = store.items.get_item(item_id)
    assert (entry.subject, entry.route, entry.confidence, entry.status.value) == ("Final plan", "mediation", 0.91, "drafted")
    assert entry.draft_text == "Dear Rosa" and entry.draft_version == 1
    assert store.folders.folder_state("test", "INBOX") == (7, 1)


def test_the_same_message_twice_is_refused(store):
    raw = make_email()
    store.messages.add_message(_new(raw, uid=1))
    with pytest.raises(DuplicateMessage):
        store.messages.add_message(_new(raw, uid=2))
    assert store.items.count("messages") == 1 and store.items.count("items") == 1


def test_recorded_only_mail_is_stored_but_not_queued(store):
    assert store.messages.add_message(_new(make_email(), recorded_only=True)) is None
    assert store.items.count("messages") == 1 and store.items.count("items") == 0


def test_events_form_a_hash_chain(store):
    store.messages.add_message(_new(make_email(), uid=1))
    store.messages.add_message(_new(make_email(), uid=2))
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT at, actor, name, message_ref, item_ref, data, prev_hash, hash "
                                 "FROM events ORDER BY id")).all()
    assert [r.name for r in rows[:5]] == ["received", "parsed", "classified", "drafted", "queued"]
    previous = GENESIS_HASH
    for r in rows:
        assert r.prev_hash == previous
        previous = r.hash
    assert len({r.hash for r in rows}) == len(rows)


def test_raw_bytes_are_kept_exactly(store):
    raw = make_email(body="Coût £40", charset="iso-8859-1")
    store.messages.add_message(_new(raw))
    with store.engine.connect() as conn:
        stored, digest = conn.execute(text("SELECT raw, content_sha256 FROM messages")).one()
    assert bytes(stored) == raw and digest == hashlib.sha256(raw).hexdigest()


def test_a_batch_is_one_transaction_and_a_message_stored_meanwhile_costs_only_itself(store):
    """add_batch writes in bulk; when one message breaks the unique key (another worker stored it after our
    duplicate check), the batch is written again one SAVEPOINT per message: that one is a duplicate, the
    others are stored, the folder is advanced past all of them and the event chain still verifies."""
    from triage import audit
    from triage.store import FolderPosition

    taken = make_email(subject="stored by another worker")
    store.messages.add_message(_new(taken, uid=1))
    batch = [_new(make_email(subject="first"), uid=2), _new(taken, uid=3), _new(make_email(subject="last"), uid=4)]
    stored = store.messages.add_batch(batch, seen=[FolderPosition("test", "INBOX", 7, 5)])
    assert [s.duplicate for s in stored] == [False, True, False]
    assert all(s.item_id is not None for s in stored if not s.duplicate)
    assert store.items.count("messages") == 3 and store.items.count("items") == 3
    assert store.folders.folder_state("test", "INBOX") == (7, 5)
    assert audit.verify(store.events.chain()).ok
    names = [e["name"] for e in store.events.all() if e["message"] == 2]  # the batch's first message, as alone
    assert names == ["received", "parsed", "classified", "drafted", "queued"]
