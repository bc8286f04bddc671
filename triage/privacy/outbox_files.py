"""The outbox directory's .eml files (FileTransport) of purged or erased messages."""

from __future__ import annotations

from pathlib import Path


def delete_outbox_files(directory: Path, names: list[str]) -> int:
    """Delete these files (and a half-written .tmp) from the outbox directory; how many were there."""
    deleted = 0
    for name in names:
        for path in (directory / name, directory / f"{name}.tmp"):
            if path.is_file():
                path.unlink()
                deleted += 1
    return deleted
