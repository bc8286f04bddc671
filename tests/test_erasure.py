"""Erasure: one message's personal data removed everywhere (database, outbox files, training data) with a
tombstone event, asked for and confirmed by two different supervisors in the web app, and not one of its
distinctive words left in the raw database bytes (SQLite with its WAL, and PostgreSQL's table files)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from triage.audit import verify
from triage.cli import cli
from triage.domain import Role
from triage.errors import NotFound
from triage.privacy import erasure
from triage.store import Store

from .privacy_site import UTC, database_bytes, send_reply, store_item
from .webapp import add_user, csrf, make_app, signed_in, write_settings

RECEIVED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
WORDS = (b"Zephyrine", b"Quillfeather", b"Thistlewhaite", b"07700 900982", b"hypermobility spectrum",
         b"Marrowgate")  # the last only in the attachment (its stored bytes and text)


def _erasable(store: Store, routes: Path) -> tuple[int, int]:
    """The message to erase (with an attachment whose text is read) and one to keep."""
    erase = store_item(
        store, routes, RECEIVED, sender="Odalys Quillfeather <odalys.quillfeather@example.com>",
        subject="Mediation for Zephyrine Quillfeather",
        body="You refused to assess Zephyrine Quillfeather at Thistlewhaite Academy. She has hypermobility "
             "spectrum disorder. I want mediation. Call me on 07700 900982.",
        attachment=("notes.txt", "text/plain", b"Zephyrine Quillfeather: Thistlewhaite notes, 07700 900982, "
                                               b"Marrowgate respite."))
    keep = store_item(store, routes, RECEIVED, sender="Bram Ostrowski <bram@example.com>",
                      subject="Mediation please", body="Bram here: I want mediation for Kasimir.")
    return erase, keep


def _present(blob: bytes) -> list[bytes]:
    return [w for w in WORDS if w.lower() in blob.lower()]


def test_erasure_leaves_none_of_the_messages_words_in_the_sqlite_files(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    target, other = _erasable(store, filled_routes)
    send_reply(settings, store, target)
    send_reply(settings, store, other)
    add_user(store, "sam", Role.SUPERVISOR)
    add_user(store, "casey")
    assert store.learning.confirmed_messages() and len(store.learning.confirmed_messages()) == 2
    files = {p.name: p.read_bytes() for p in settings.outbox.directory.glob("*.eml")}
    assert any(_present(b) for b in files.values())
    assert set(_present(database_bytes(store))) == set(WORDS)  # the check below can see them
    assert b"Marrowgate" in b"".join(store.attachments.open(target, 0).chunks())  # stored at intake

    config = str(settings.source_file)
    refused = CliRunner().invoke(cli, ["--config", config, "erase", "--item", str(target), "--reason", "asked",
                                       "--as", "casey"])
    assert refused.exit_code == 1 and "supervisor or admin" in refused.output
    result = CliRunner().invoke(cli, ["--config", config, "erase", "--item", str(target), "--as", "sam", "--reason",
                                      "The parent asked by email on 1 December 2026 (Art. 17)"])
    assert result.exit_code == 0, result.output
    assert "personal data erased" in result.output

    store.close()
    store = Store(settings.database_url)
    assert _present(database_bytes(store)) == []  # the database file, its WAL and shared memory
    with pytest.raises(NotFound):
        store.attachments.open(target, 0)  # the stored attachment's row is gone
    left = {p.name: p.read_bytes() for p in settings.outbox.directory.glob("*.eml")}
    assert left and not any(_present(b) for b in left.values())  # the other message's reply is still there
    assert b"Kasimir" in database_bytes(store)  # and the other message is untouched

    assert [c.item_id for c in store.learning.confirmed_messages()] == [other]  # dropped at the next retrain
    assert verify(store.events.chain()).ok
    tombstone = [e for e in store.events.all() if e["name"] == "erased"]
    assert len(tombstone) == 1 and tombstone[0]["item"] == target and tombstone[0]["actor"] == "sam"
    assert tombstone[0]["data"]["reason"].startswith("The parent asked")
    detail = store.items.detail(target)
    assert detail.message.text == "" and detail.status.value == "sent"
    again = CliRunner().invoke(cli, ["--config", config, "erase", "--item", str(target), "--as", "sam",
                                     "--reason", "x"])
    assert again.exit_code == 1 and "already deleted" in again.output
    store.close()


def test_the_web_app_needs_a_second_person_to_confirm(tmp_path, filled_routes):
    app, store, settings = make_app(tmp_path, routes_file=filled_routes)
    target, other = _erasable(store, filled_routes)
    add_user(store, "sam", Role.SUPERVISOR)
    add_user(store, "ada", Role.ADMIN)
    add_user(store, "casey")
    casey = signed_in(app, "casey")
    assert casey.post("/supervisor/privacy/erasures", data={"csrf_token": csrf(casey, "/queue"), "item": target,
                                                             "reason": "x"}).status_code == 403
    sam = signed_in(app, "sam")
    token = csrf(sam, "/supervisor/privacy/")
    response = sam.post("/supervisor/privacy/erasures", data={
        "csrf_token": token, "item": str(target), "reason": "Parent asked on the phone, 2 Dec"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "another supervisor or admin must confirm it" in page and "Another person must confirm" in page
    request = store.privacy.erasure_requests()[0]
    own = sam.post(f"/supervisor/privacy/erasures/{request.id}/confirm", data={"csrf_token": token},
                   follow_redirects=True).get_data(as_text=True)
    assert "a second person must confirm it" in own
    assert "Zephyrine" in store.items.detail(target).message.text  # nothing erased yet

    ada = signed_in(app, "ada")
    done = ada.post(f"/supervisor/privacy/erasures/{request.id}/confirm",
                    data={"csrf_token": csrf(ada, "/supervisor/privacy/")}, follow_redirects=True)
    assert "personal data was erased" in done.get_data(as_text=True)
    assert store.items.detail(target).message.text == ""
    assert store.items.detail(target).status.value == "handled_elsewhere"  # it was open: it leaves the queue
    tombstone = [e for e in store.events.all() if e["name"] == "erased"][0]
    assert tombstone["actor"] == "ada" and tombstone["data"]["requested_by"] == "sam"
    assert verify(store.events.chain()).ok
    assert "Kasimir" in store.items.detail(other).message.text
    for page in (f"/items/{target}", f"/supervisor/items/{target}/timeline", "/queue?status=all"):
        response = ada.get(page)  # the stub still shows, without any of the message's words
        assert response.status_code == 200 and "Zephyrine" not in response.get_data(as_text=True), page
    store.close()


@pytest.mark.slow  # starts a private PostgreSQL server
def test_erasure_leaves_none_of_the_messages_words_in_postgresql(tmp_path, filled_routes):
    from .postgres import Postgres

    server = Postgres(Path(tempfile.mkdtemp(prefix="ehc-postgres-"))).start()  # not under the private tmp tree
    try:
        url = server.create_database()
        settings_file = write_settings(tmp_path, filled_routes)
        settings_file.write_text(settings_file.read_text() + f'\n[database]\nurl = "{url}"\n')
        from triage.settings import load_settings

        settings = load_settings(settings_file, environ={})
        store = Store(url)
        store.migrate()
        target, other = _erasable(store, filled_routes)
        send_reply(settings, store, target)
        add_user(store, "ada", Role.ADMIN)
        assert set(_present(_pg_bytes(server, url))) == set(WORDS)
        erasure.erase_item(settings, store, target, "Asked in writing", "ada")
        assert _present(_pg_bytes(server, url)) == []
        assert b"Kasimir" in _pg_bytes(server, url)
        assert verify(store.events.chain()).ok
        store.close()
    finally:
        server.stop()


def _pg_bytes(server, url: str) -> bytes:
    """Every file of the database's directory (tables, TOAST, indexes), after a CHECKPOINT wrote them out."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
    folder = server.data / "base" / str(oid)
    return b"".join((folder / name).read_bytes() for name in sorted(os.listdir(folder))
                    if (folder / name).is_file())
