"""Model versions kept side by side, and which one is current.

    model_dir/
        CURRENT                  the current version's name, replaced atomically
        versions/m-1a2b3c4d5e6f/ card.json, route.skops, safeguarding.skops
        versions/m-.../

Promoting or rolling back rewrites one small file, so a reader sees the old model or the new one,
never half of each; a version's files are never changed once written.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import persistence
from .errors import ClassifierError, ModelMissing
from .model import Classifier

CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
_VERSION = re.compile(r"m-[0-9a-f]{12}")


class UnknownVersion(ClassifierError):
    """Raised when a version asked for is not among the saved ones."""


@dataclass(frozen=True)
class ModelEntry:
    """One saved version, as `model list` shows it."""

    version: str
    trained_at: str
    current: bool
    card: dict[str, Any]


class Registry:
    """The saved model versions under one directory (the [classifier] model_dir)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or persistence.DEFAULT_MODEL_DIR)

    def current_version(self) -> str | None:
        try:
            return (self.root / CURRENT_FILE).read_text().strip() or None
        except FileNotFoundError:
            return None

    def current_dir(self) -> Path:
        version = self.current_version()
        if version is None:
            raise ModelMissing(f"no model in {self.root}: run `ehc-triage train` to build one")
        return self.path(version)

    def load_current(self) -> Classifier:
        return persistence.load_files(self.current_dir())

    def load(self, version: str) -> Classifier:
        return persistence.load_files(self._existing(version))

    def path(self, version: str) -> Path:
        if not _VERSION.fullmatch(version):
            raise UnknownVersion(f"{version!r} is not a model version (they look like m-1a2b3c4d5e6f); "
                                 f"see `ehc-triage model list`")
        return self.root / VERSIONS_DIR / version

    def save(self, parts: dict[str, Any], card: dict[str, Any]) -> Path:
        """Write a version (replacing an unfinished or identical earlier write of the same version)."""
        target = self.path(card["version"])
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        persistence.save(parts, card, staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        return target

    def promote(self, version: str) -> None:
        """Make `version` current (it must load: files present and matching their card)."""
        persistence.load_files(self._existing(version))
        pointer = self.root / (CURRENT_FILE + ".tmp")
        pointer.write_text(version + "\n")
        os.replace(pointer, self.root / CURRENT_FILE)

    def entries(self) -> list[ModelEntry]:
        """Every saved version, newest first."""
        current = self.current_version()
        found = []
        for path in sorted((self.root / VERSIONS_DIR).glob("m-*")):
            if not _VERSION.fullmatch(path.name):
                continue
            try:
                card = persistence.read_card(path)
            except ClassifierError:
                continue
            found.append(ModelEntry(path.name, str(card.get("trained_at", "")), path.name == current, card))
        return sorted(found, key=lambda e: e.trained_at, reverse=True)

    def _existing(self, version: str) -> Path:
        path = self.path(version)
        if not (path / persistence.CARD_FILE).exists():
            known = ", ".join(e.version for e in self.entries()) or "none"
            raise UnknownVersion(f"no saved model version {version} in {self.root} (saved: {known})")
        return path
