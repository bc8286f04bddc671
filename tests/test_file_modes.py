"""Files holding personal data are the service user's alone: the data directory and outbox directory 0700,
the database and SQLite's -wal and -shm files and every outbox .eml file 0600, whatever the umask, and
an older database left 0644 is tightened at the next start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.private_files import mode, private_dir, private_file, private_sqlite
from triage.store import Store

from .factories import make_email


@pytest.fixture
def loose_umask():
    """The usual umask (files 0644, directories 0755): the service must not rely on a stricter one."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_full_run_leaves_nothing_readable_by_other_users(tmp_path, loose_umask, model_dir):
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(make_email(subject="Refusal to assess", body="I want mediation."))
    data = tmp_path / "data"
    config = tmp_path / "settings.toml"
    config.write_text(f'[service]\ndata_dir = "{data}"\n[maildir]\npath = "{maildir}"\n')
    for command in (["poll", "--once"], ["outbox", "send"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *command])
        assert result.exit_code == 0, result.output

    assert mode(data) == 0o700
    database = data / "triage.db"
    companions = [database.with_name("triage.db" + s) for s in ("-wal", "-shm")]
    assert all(p.exists() for p in companions)  # WAL mode: both are there while the database is open
    for path in (database, *companions):
        assert mode(path) == 0o600, path
    outbox = data / "outbox"
    sent = list(outbox.glob("*.eml"))
    assert sent, "the acknowledgement was written as a file"
    assert mode(outbox) == 0o700 and {mode(p) for p in sent} == {0o600}


def test_an_older_world_readable_database_is_tightened_when_opened(tmp_path, loose_umask):
    folder = tmp_path / "var"
    folder.mkdir()
    url = f"sqlite:///{folder / 'triage.db'}"
    Store(url).migrate()
    for path in folder.iterdir():
        os.chmod(path, 0o644)
    store = Store(url)
    store.migrate()
    assert {p.name: mode(p) for p in folder.iterdir()} == {p.name: 0o600 for p in folder.iterdir()}
    store.close()


def test_the_helpers_create_private_paths_and_leave_shared_ones_alone(tmp_path, loose_umask):
    nested = private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(nested) == 0o700
    assert mode(private_file(nested / "f")) == 0o600
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: never narrowed
    private_dir(shared)
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    private_sqlite("postgresql+psycopg://u@h/db")  # not a file: nothing to do
    private_sqlite(f"sqlite:///{tmp_path / 'new' / 'x.db'}")
    assert mode(tmp_path / "new") == 0o700 and mode(Path(tmp_path / "new" / "x.db")) == 0o600
