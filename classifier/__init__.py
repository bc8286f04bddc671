"""Route classifier for EHC team mail: a library that knows nothing of the triage service.

    from classifier import load_or_train
    prediction = load_or_train().predict(subject, body)
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ClassifierError, CorpusError, ModelCardMismatch, ModelMissing
from .labels import LABELS, Route, is_route

if TYPE_CHECKING:
    from .model import Classifier, Prediction
    from .registry import ModelEntry, Registry, UnknownVersion
    from .text import Document

__all__ = [
    "Classifier", "ClassifierError", "Document", "CorpusError", "DEFAULT_MODEL_DIR", "LABELS", "ModelCardMismatch",
    "ModelEntry", "ModelMissing", "Prediction", "Registry", "Route", "UnknownVersion", "evaluate", "is_route", "load",
    "load_or_train", "prepare", "prepare_document", "train",
]

# The model's parts load scikit-learn (about 2 s): imported when first used, so that what needs only the
# route names (classifier.labels: the settings, the store, the drafts) does not pay for them.
_LAZY = {
    "Classifier": "model", "Prediction": "model", "DEFAULT_MODEL_DIR": "persistence", "ModelEntry": "registry",
    "Registry": "registry", "UnknownVersion": "registry", "Document": "text", "prepare": "text",
    "prepare_document": "text", "evaluate": "training", "train": "training",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(model_dir: Path | None = None) -> Classifier:
    """The current model version in model_dir (default: the one built beside this package)."""
    from .registry import Registry

    return Registry(model_dir).load_current()


def load_or_train(model_dir: Path | None = None) -> Classifier:
    """The built model in model_dir; trains it from the bundled corpus first when none is built."""
    try:
        return load(model_dir)
    except ModelMissing:
        from .training import train

        train(model_dir=model_dir)
        return load(model_dir)
