"""Attachments are stored once at intake and streamed from the store on download (issue 14, finding 10):
byte-identical, without parsing the message again, a piece at a time, backfilled by migration 0012 for
messages stored before it, and gone with the message when its personal data is removed."""

from __future__ import annotations

import hashlib
import os
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

import classifier
from replies import DEFAULT_ROUTES_FILE, load_routes
from triage.domain import FetchedMail
from triage.errors import NotFound
from triage.pipeline import Triage, process
from triage.store import _MIGRATIONS, Store
from triage.store.attachments import CHUNK_BYTES

from .factories import make_email
from .postgres import Postgres
from .webapp import add_item, add_user, make_app, signed_in

LETTER = b"%PDF-1.4\n% fictional decision letter for Tamsin Okonkwo-Hale\n" + bytes(range(256)) * 40


def _refuse_to_parse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a download parsed the message")


def _forbid_parsing(monkeypatch) -> None:
    import triage.parsing
    import triage.web.items

    monkeypatch.setattr(triage.parsing, "parse_message", _refuse_to_parse)
    monkeypatch.setattr(triage.parsing, "attachment_payloads", _refuse_to_parse)
    for name in ("parse_message", "attachment_payloads"):
        if hasattr(triage.web.items, name):
            monkeypatch.setattr(triage.web.items, name, _refuse_to_parse)


def test_an_attachment_taken_in_by_the_pipeline_downloads_byte_identical_without_parsing(
        tmp_path, filled_routes, model_dir, monkeypatch):
    app, store, _ = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    raw = make_email(subject="Decision letter", body="I want mediation. The letter is attached.",
                     attachment=("decision letter.pdf", "application/pdf", LETTER))
    triage = Triage(store, classifier.load(model_dir), load_routes(DEFAULT_ROUTES_FILE))
    report = process(FetchedMail("test", "INBOX", 1, 1, raw, None), triage)
    [item] = report.item_ids

    with store.engine.connect() as conn:
        [(index, name, ctype, size, digest)] = conn.execute(text(
            'SELECT "index", filename, content_type, size, sha256 FROM attachments')).all()
    assert (index, name, ctype, size) == (0, "decision letter.pdf", "application/pdf", len(LETTER))
    assert digest == hashlib.sha256(LETTER).hexdigest()

    _forbid_parsing(monkeypatch)
    client = signed_in(app, "casey")
    response = client.get(f"/items/{item}/attachments/0")
    assert response.status_code == 200
    assert response.get_data() == LETTER
    assert response.headers["Content-Length"] == str(len(LETTER))
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == ("attachment; filename=\"decision letter.pdf\"; "
                                                       "filename*=UTF-8''decision%20letter.pdf")
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    downloaded = [e for e in store.events.of_item(item) if e["name"] == "attachment_downloaded"]
    assert len(downloaded) == 1 and downloaded[0]["actor"] == "casey"
    assert client.get(f"/items/{item}/attachments/1").status_code == 404
    store.close()


def test_a_large_attachment_is_streamed_in_pieces_never_held_whole(tmp_path, filled_routes):
    app, store, _ = make_app(tmp_path, routes_file=filled_routes)
    add_user(store, "casey")
    big = os.urandom(8 * 1024 * 1024)
    item = add_item(store, routes_file=filled_routes, attachment=("scan.bin", "application/octet-stream", big))
    del big  # only its digest is kept, so the check below cannot be fooled by a copy held here
    digest = hashlib.sha256(next(store.attachments.open(item, 0).chunks())).hexdigest()  # the first piece's
    expected = store.attachments.open(item, 0)
    assert expected.size == 8 * 1024 * 1024

    client = signed_in(app, "casey")
    response = client.get(f"/items/{item}/attachments/0", buffered=False)
    assert response.is_streamed  # the body is a generator, not bytes
    assert response.headers["Content-Length"] == str(expected.size)
    whole = hashlib.sha256()
    pieces = 0
    first = None
    tracemalloc.start()
    try:
        for piece in response.response:
            whole.update(piece)
            first = first or hashlib.sha256(piece).hexdigest()
            pieces += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert pieces == 8 and first == digest
    assert whole.hexdigest() == expected.sha256
    assert peak < 3 * CHUNK_BYTES, f"peak {peak:,} bytes while streaming 8 MB"  # a piece or two, not the file
    store.close()


def test_migration_0012_backfills_the_attachments_of_messages_stored_before_it(tmp_path, filled_routes):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    store.migrate()
    letter = add_item(store, routes_file=filled_routes, attachment=("letter.pdf", "application/pdf", LETTER))
    plain = add_item(store, routes_file=filled_routes)
    purged = add_item(store, routes_file=filled_routes, attachment=("gone.txt", "text/plain", b"Purged words"))
    with store.engine.begin() as conn:  # as retention left it before 0012: raw bytes cleared
        conn.execute(text("UPDATE messages SET raw = x'', purged_at = '2026-11-30 00:00:00' "
                          "WHERE id = (SELECT message_ref FROM items WHERE id = :i)"), {"i": purged})
    _downgrade(store, "0011")  # the database as the previous version left it: no attachments table
    with store.engine.connect() as conn:
        assert "attachments" not in {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}

    store.migrate()
    found = store.attachments.open(letter, 0)
    assert (found.filename, found.content_type, found.size) == ("letter.pdf", "application/pdf", len(LETTER))
    assert b"".join(found.chunks(chunk_bytes=1000)) == LETTER
    for item in (plain, purged):
        with pytest.raises(NotFound):
            store.attachments.open(item, 0)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 1
    store.close()


def test_retention_and_erasure_remove_the_attachments_rows(tmp_path, filled_routes):
    from triage.store.personal_data import remove_personal_data

    store = Store(f"sqlite:///{tmp_path / 'purge.db'}")
    store.migrate()
    item = add_item(store, routes_file=filled_routes, attachment=("letter.pdf", "application/pdf", LETTER))
    other = add_item(store, routes_file=filled_routes, attachment=("keep.pdf", "application/pdf", LETTER))
    with store.db.writing() as s:
        message = s.execute(text("SELECT message_ref FROM items WHERE id = :i"), {"i": item}).scalar_one()
        remove_personal_data(s, [message], "retention", store.db.now())
    with pytest.raises(NotFound):
        store.attachments.open(item, 0)
    assert b"".join(store.attachments.open(other, 0).chunks()) == LETTER
    store.close()


# -- PostgreSQL: substring() over bytea, the column stored uncompressed ---------------------------

@pytest.fixture(scope="module")
def postgres():
    server = Postgres(Path(tempfile.mkdtemp(prefix="ehc-postgres-"))).start()
    yield server
    server.stop()


@pytest.mark.slow
def test_on_postgresql_an_attachment_is_stored_backfilled_and_read_in_pieces(postgres, filled_routes):
    url = postgres.create_database()
    store = Store(url)
    store.migrate()
    big = os.urandom(3 * CHUNK_BYTES + 12345)
    item = add_item(store, routes_file=filled_routes, attachment=("scan.bin", "application/octet-stream", big))
    found = store.attachments.open(item, 0)
    pieces = list(found.chunks())
    assert [len(p) for p in pieces] == [CHUNK_BYTES] * 3 + [12345] and b"".join(pieces) == big
    with store.engine.connect() as conn:
        storage = conn.execute(text("SELECT attstorage FROM pg_attribute WHERE attrelid = 'attachments'::regclass "
                                    "AND attname = 'data'")).scalar_one()
    assert storage == "e"  # EXTERNAL: substring() reads only the TOAST chunks it needs

    _downgrade(store, "0011")
    store.migrate()  # the backfill, on PostgreSQL
    assert b"".join(store.attachments.open(item, 0).chunks()) == big
    store.close()


def _downgrade(store: Store, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
