"""Save and load one Classifier version: skops files (never pickle) plus a JSON model card that must match them.

skops loads only the types it is told to trust, so a tampered file cannot run code on load the
way a pickle can. The card records each file's SHA-256; a file that does not match is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from .errors import ModelCardMismatch, ModelMissing
from .model import Classifier

DEFAULT_MODEL_DIR = Path(__file__).parent / "model"
CARD_FILE = "card.json"
ROUTE_FILE = "route.skops"
SAFEGUARDING_FILE = "safeguarding.skops"
CALIBRATOR_FILE = "calibrator.skops"
LEXICON_FILE = "lexicon.json"
# The model parts saved with skops, and where.
SKOPS_PARTS = (("route", ROUTE_FILE), ("calibrator", CALIBRATOR_FILE), ("safeguarding", SAFEGUARDING_FILE))
REQUIRED_CARD_FIELDS = ("version", "trained_at", "labels", "threshold", "safeguarding_threshold", "files")

# The only non-standard types our pipelines contain; anything else in a file is refused.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


def save(classifier_parts: dict[str, Any], card: dict[str, Any], model_dir: Path) -> Path:
    """Write the models, the name lexicon and the card into model_dir (atomically per file)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, filename in SKOPS_PARTS:
        tmp = model_dir / (filename + ".tmp")
        sio.dump(classifier_parts[name], tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        os.replace(tmp, model_dir / filename)
        files[filename] = _sha256(model_dir / filename)
    tmp = model_dir / (LEXICON_FILE + ".tmp")
    tmp.write_text(json.dumps(sorted(classifier_parts["lexicon"].words)) + "\n")
    os.replace(tmp, model_dir / LEXICON_FILE)
    files[LEXICON_FILE] = _sha256(model_dir / LEXICON_FILE)
    card = {**card, "files": files}
    tmp = model_dir / (CARD_FILE + ".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, model_dir / CARD_FILE)
    return model_dir


def read_card(model_dir: Path) -> dict[str, Any]:
    path = model_dir / CARD_FILE
    if not path.exists():
        raise ModelMissing(f"no model in {model_dir}: run `ehc-triage train` to build one")
    card = json.loads(path.read_text())
    for field in REQUIRED_CARD_FIELDS:
        if field not in card:
            raise ModelCardMismatch(f"model card {path} has no '{field}'; rebuild with `ehc-triage train`")
    return card


def load_files(model_dir: Path) -> Classifier:
    """Load the classifier whose files are in model_dir, refusing files that do not match the card."""
    card = read_card(model_dir)
    parts: dict[str, Any] = {}
    for name, filename in SKOPS_PARTS:
        path = _checked(model_dir, filename, card)
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if refused:
            raise ModelCardMismatch(f"{path} contains types this project never saves: {', '.join(refused)}")
        parts[name] = sio.load(path, trusted=untrusted)
    parts["lexicon"] = json.loads(_checked(model_dir, LEXICON_FILE, card).read_text())
    return Classifier(parts, card)


def _checked(model_dir: Path, filename: str, card: dict[str, Any]) -> Path:
    """The path of one of the model's files, refused when missing or not the file its card describes."""
    path = model_dir / filename
    if not path.exists():
        raise ModelMissing(f"{path} is missing: run `ehc-triage train` to rebuild the model")
    expected = card["files"].get(filename)
    actual = _sha256(path)
    if expected != actual:
        raise ModelCardMismatch(
            f"{path} does not match card field files.{filename} (card says {str(expected)[:12]}..., "
            f"file is {actual[:12]}...); run `ehc-triage train` to rebuild"
        )
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
