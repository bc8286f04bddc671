"""Files that hold personal data are readable by the service's own user only.

The database holds special-category data about children, so its file (and SQLite's -wal and -shm
files beside it), the data directory, the outbox directory and every export are created 0600/0700
whatever the process umask is, and tightened when an earlier version left them 0644. SQLite creates
its -wal and -shm files with the database file's own permissions, so a private database file keeps
them private too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path | str) -> Path:
    """Create the directory (and missing parents) 0700; tighten it when it exists and is ours."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for created in missing:  # mkdir's mode only applies to the last one, and the umask still narrows it
        _tighten(created, PRIVATE_DIR)
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path | str) -> Path:
    """Create the file empty (if missing) 0600, or tighten it when it exists and is ours."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass
    _tighten(path, PRIVATE_FILE)
    return path


def write_private(path: Path | str, data: bytes) -> Path:
    """Write bytes to a new file created 0600 (replacing what was there, atomically)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    _tighten(tmp, PRIVATE_FILE)
    tmp.replace(path)
    return path


def private_sqlite(url: str) -> None:
    """For a sqlite:/// URL: the directory 0700 when this creates it, the database file and its
    companions 0600 (created before SQLite opens it, so SQLite copies the mode to -wal and -shm)."""
    if not url.startswith("sqlite:///"):
        return
    database = Path(url.removeprefix("sqlite:///"))
    if str(database) in ("", ":memory:"):
        return
    if not database.parent.exists():
        private_dir(database.parent)
    private_file(database)
    for suffix in SQLITE_COMPANIONS:
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            _tighten(companion, PRIVATE_FILE)


def mode(path: Path | str) -> int:
    """A file's permission bits, e.g. 0o600."""
    return stat.S_IMODE(os.stat(path).st_mode)


def _tighten(path: Path, wanted: int) -> None:
    """chmod to `wanted` when the path is ours and looser than that (never loosen, never touch others')."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if info.st_uid != os.geteuid() or info.st_mode & stat.S_ISVTX:  # not ours, or shared like /tmp
        return
    if stat.S_IMODE(info.st_mode) & ~wanted:
        os.chmod(path, stat.S_IMODE(info.st_mode) & wanted)
